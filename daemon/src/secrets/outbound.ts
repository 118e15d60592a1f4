/**
 * Redaction at the daemon's two doors out that carry free text: the SQL API calls that store what people and the
 * model wrote (messages, session and task titles, message metadata such as tool results), applied by the store
 * every subsystem uses (`store/switchable.ts`), and the text of every message sent to a model
 * (`chat/orchestrator.ts`). Whatever path wrote the text (chat/send, sessions/post, MCP, a tool step, a
 * streaming snapshot), it is scanned here before it leaves.
 */
import { redactSecrets } from './index.js';

/** SQL API functions whose free-text arguments are stored in a session, a task or a title others can read. */
const TEXT_WRITES: Record<string, string[]> = {
  append_message: ['p_content', 'p_metadata', 'p_name'],
  update_message: ['p_content', 'p_metadata'],
  create_session: ['p_title'],
  rename_session: ['p_title'],
  create_task: ['p_title', 'p_description'],
  update_task: ['p_title', 'p_description'],
};

/** `args` with every detected secret in the stored free-text arguments of `fn` redacted (the same object when none). */
export function redactWriteArgs(fn: string, args: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const fields = TEXT_WRITES[fn];
  if (!fields || !args) return args;
  let out: Record<string, unknown> | null = null;
  for (const field of fields) {
    const value = args[field];
    if (value === undefined || value === null) continue;
    const redacted = redactDeep(value, 0);
    if (redacted !== value) (out ??= { ...args })[field] = redacted;
  }
  return out ?? args;
}

/** Strings anywhere inside `value` (objects and arrays copied only where something changed). */
export function redactDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') {
    const r = redactSecrets(value);
    return r.redactions > 0 ? r.text : value;
  }
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let changed = false;
    const next = value.map((v) => {
      const r = redactDeep(v, depth + 1);
      if (r !== v) changed = true;
      return r;
    });
    return changed ? next : value;
  }
  let copy: Record<string, unknown> | null = null;
  for (const [k, v] of Object.entries(value)) {
    const r = redactDeep(v, depth + 1);
    if (r !== v) (copy ??= { ...(value as Record<string, unknown>) })[k] = r;
  }
  return copy ?? value;
}

// The history sent to a model repeats the same rows at every call: remember what each text became.
const seen = new Map<string, string>();
const SEEN_MAX = 2000;

/** `text` redacted, memoised for texts sent to a model again and again (history rows). */
export function redactForModel(text: string): string {
  const hit = seen.get(text);
  if (hit !== undefined) return hit;
  const out = redactSecrets(text).text;
  if (text.length <= 200_000) {
    if (seen.size >= SEEN_MAX) seen.delete(seen.keys().next().value!);
    seen.set(text, out);
  }
  return out;
}
