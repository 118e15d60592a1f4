/**
 * The discovery handshake: how a client and the daemon prove to each other that they know the token in
 * `daemon.json` without either sending it. A stale discovery file (the daemon crashed, its port was taken by
 * another local process) must not make a client hand its keys to whoever listens there now, so a client
 * sends nothing secret until the daemon has answered its nonce with the token's HMAC.
 *
 * On the WebSocket upgrade the client sends a fresh random nonce and its own proof; the daemon checks the
 * proof (constant time, each nonce once) and answers the upgrade with its proof for the same nonce. Both are
 * HMAC-SHA256 keyed with the token over a label and the nonce, so neither can be replayed as the other.
 * Node builtins only: the extension loads this through the client.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Request header carrying the client's nonce (32 to 128 hex characters). */
export const NONCE_HEADER = 'x-cairn-nonce';
/** Response header of the 101 answer carrying the daemon's proof, HMAC(token, "cairn-daemon-v1:" + nonce) in hex. */
export const DAEMON_PROOF_HEADER = 'x-cairn-daemon-proof';
/** `Authorization` scheme of the client's proof, HMAC(token, "cairn-client-v1:" + nonce) in hex. */
export const CLIENT_PROOF_SCHEME = 'Cairn-HMAC';

const CLIENT_LABEL = 'cairn-client-v1:';
const DAEMON_LABEL = 'cairn-daemon-v1:';

export const NONCE_PATTERN = /^[0-9a-f]{32,128}$/;

export function newNonce(): string {
  return randomBytes(32).toString('hex');
}

function hmac(token: string, label: string, nonce: string): string {
  return createHmac('sha256', token).update(label).update(nonce).digest('hex');
}

export function clientProof(token: string, nonce: string): string {
  return hmac(token, CLIENT_LABEL, nonce);
}

export function daemonProof(token: string, nonce: string): string {
  return hmac(token, DAEMON_LABEL, nonce);
}

/** Constant-time comparison of two hex proofs. */
export function proofMatches(presented: string | null | undefined, expected: string): boolean {
  if (typeof presented !== 'string' || presented.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(presented), Buffer.from(expected));
}
