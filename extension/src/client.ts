/**
 * The daemon client the extension uses: the shared typed protocol client (daemon/src/protocol/client),
 * the same one the CLI uses, so both speak the protocol exactly as declared.
 */
export type { DaemonClient } from '../../daemon/src/protocol/client/index.js';
