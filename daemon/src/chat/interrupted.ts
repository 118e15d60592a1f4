/**
 * Replies a stopped daemon left `streaming`, kept apart from the orchestrator so the daemon can sweep them at
 * start (and team sign-in can) without loading LangChain.
 */
import type { Store } from '../store/types.js';

/**
 * A streaming reply is saved at least this often, even while the model or a tool is silent, so another
 * daemon of the same user can tell it from one a crash left behind (`STALE_REPLY_SECONDS`).
 */
export const REPLY_HEARTBEAT_MS = 30_000;
/** A streaming reply untouched this long belongs to a daemon that is gone (four missed heartbeats). */
export const STALE_REPLY_SECONDS = 120;

/**
 * Fails the user's replies a stopped daemon left `streaming`: all of them (a lone embedded daemon at start),
 * or only stale ones where the user may run other daemons that are answering right now. Returns how many.
 */
export async function failInterruptedReplies(store: Store, onlyStale: boolean): Promise<number> {
  return Number(
    await store.rpc('fail_streaming_messages', {
      p_reason: 'the daemon stopped before the reply finished',
      ...(onlyStale ? { p_stale_after_seconds: STALE_REPLY_SECONDS } : {}),
    }),
  );
}
