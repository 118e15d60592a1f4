/**
 * The limits every connection lives within, declared once: the daemon enforces them (rpc/server.ts,
 * rpc/ws.ts) and docs/protocol.md states them. They keep one client, however it behaves, from freezing the
 * daemon for the others or growing its memory without bound.
 */
export const PROTOCOL_LIMITS = {
  /** Largest frame (WebSocket message or stdio line) accepted, in bytes. */
  maxFrameBytes: 8 * 1024 * 1024,
  /** Elements of one batch; a larger batch is refused whole with `TooLarge`. */
  maxBatchElements: 256,
  /** JSON values in one frame (each object, array, member and element counts); a frame with more is refused unparsed with `TooLarge`. */
  maxFrameValues: 100_000,
  /** Largest response frame (a batch answer counts whole), in bytes; what would go over is answered `TooLarge`. */
  maxResponseBytes: 16 * 1024 * 1024,
  /** Requests of one connection running at once (ids reused or not); more are answered `Busy`. */
  maxInFlight: 64,
  /** Authenticated connections open at once. */
  maxConnections: 32,
  /** TCP connections that have not completed an authenticated WebSocket upgrade yet; past it the oldest is dropped. */
  maxUnauthenticatedConnections: 64,
  /** Time a TCP connection has to complete the authenticated upgrade. */
  handshakeTimeoutMs: 10_000,
  /** Topics one connection may subscribe to. */
  maxTopicsPerConnection: 1024,
  /** Output a WebSocket client has not read yet; past it the connection is closed (1008). */
  maxUnreadOutputBytes: 64 * 1024 * 1024,
} as const;
