/**
 * The client side of the protocol: discovery, starting the daemon, and a typed WebSocket client. Editors
 * import this (and the protocol declarations), never the daemon's internals.
 */
export * from './discovery.js';
export * from './client.js';
export * from './ensure.js';
