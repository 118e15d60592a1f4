/**
 * Turns daemon (JSON-RPC) errors into what the user reads and the action that fixes it. Error codes come from
 * the protocol's table (daemon/src/protocol/errors.ts), so the extension switches on names, not numbers.
 */
import { errorReason, RpcErrorCodes, type ErrorCodeName } from '../../daemon/src/protocol/errors.js';
import type { FixAction } from '../../webview/src/messages.js';

/**
 * A message safe to show or log: the error's own text, without stack traces or anything token-shaped. A plain
 * `{ code, message }` (a reply's error from `chat/done`) is its message, never "[object Object]".
 */
export function describeError(err: unknown): string {
  const own = err && typeof err === 'object' ? (err as { message?: unknown }).message : undefined;
  const text = err instanceof Error ? err.message : typeof own === 'string' ? own : String(err);
  return text.replace(/(eyJ[\w-]+\.[\w-]+\.[\w-]+)|(sk-[\w-]{8,})|(Bearer\s+\S+)/g, '[redacted]');
}


/**
 * Confirms this sign-in with the user's second factor (its 6-digit code, reaching aal2) or, without one, sets one
 * up: the fix for every refusal that needs aal2.
 */
export const SECOND_FACTOR_ACTION: FixAction = { label: 'Verify or Set Up Two-Factor', command: 'cairn.enrollMfa' };

/**
 * A refusal that a second factor on this sign-in (aal2) would lift: the database's (reason `secondFactor`, its
 * SQLSTATE carried by the daemon) or Supabase Auth's (error code `insufficient_aal`).
 */
export function needsSecondFactor(err: unknown): boolean {
  return errorReason(err) === 'secondFactor' || (!!err && typeof err === 'object' && (err as { code?: unknown }).code === 'insufficient_aal');
}

const byCode = new Map<number, ErrorCodeName>(Object.entries(RpcErrorCodes).map(([k, v]) => [v, k as ErrorCodeName]));

export function errorName(err: unknown): ErrorCodeName | null {
  if (err && typeof err === 'object') {
    const e = err as { codeName?: unknown; code?: unknown; name?: unknown };
    if (typeof e.codeName === 'string' && e.codeName in RpcErrorCodes) return e.codeName as ErrorCodeName;
    if (typeof e.code === 'number') return byCode.get(e.code) ?? null;
    if (e.name === 'AbortError') return 'Cancelled';
  }
  return null;
}

/** The `data` a typed daemon error carried (JSON-RPC `error.data`), if any. */
export function errorData(err: unknown): unknown {
  return err && typeof err === 'object' ? (err as { data?: unknown }).data : undefined;
}

export function isCancellation(err: unknown): boolean {
  return errorName(err) === 'Cancelled';
}

/** `lead: text`, unless the daemon's text is already a whole sentence saying what failed ("The model …", "No API key …"). */
function lead(lead: string, text: string): string {
  return /^(The|No) /.test(text) ? text : `${lead}: ${text}`;
}

/** The actions that fix the model connection: what a model error offers, and what clears it once used. */
export const MODEL_ACTIONS: FixAction[] = [
  { label: 'Set Model API Key', command: 'cairn.setModelApiKey' },
  { label: 'Open Settings', command: 'workbench.action.openSettings', args: ['cairn.model'] },
];

/** The error as one sentence for a person, with the action that fixes it when there is one. */
export function explain(err: unknown): { message: string; actions: FixAction[] } {
  const text = describeError(err);
  switch (errorName(err)) {
    case 'NotSignedIn':
      return { message: `Sign in to use Cairn in team mode. (${text})`, actions: [{ label: 'Sign In', command: 'cairn.signIn' }] };
    case 'ModelNotConfigured':
      return { message: lead('No model is connected', text), actions: MODEL_ACTIONS };
    case 'ProviderError':
      return { message: lead('The model provider failed', text), actions: MODEL_ACTIONS };
    case 'SchemaBehind':
      return { message: `The database schema is older than this Cairn: ${text}`, actions: [{ label: 'Show Log', command: 'cairn.showLog' }] };
    case 'PermissionDenied':
      if (needsSecondFactor(err)) {
        return {
          message: `Not allowed until this sign-in is confirmed with a second factor: ${text}. Enter the code from your authenticator app (or set one up), then try again.`,
          actions: [SECOND_FACTOR_ACTION],
        };
      }
      return { message: `Not allowed: ${text}`, actions: [] };
    case 'Busy':
      return { message: `Cairn is busy; try again in a moment. (${text})`, actions: [] };
    case 'ProjectChoiceNeeded':
      // The daemon's text names the teams; nothing is mapped until the user picks (cairn.chooseProject asks).
      return { message: text, actions: [{ label: 'Choose Project', command: 'cairn.chooseProject' }] };
    case 'Unauthorized':
      return { message: `The daemon refused this window's token: ${text}`, actions: [{ label: 'Reconnect', command: 'cairn.reconnect' }] };
    default:
      return { message: text, actions: [{ label: 'Show Log', command: 'cairn.showLog' }] };
  }
}
