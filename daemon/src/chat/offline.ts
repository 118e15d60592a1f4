/**
 * The answer when no model is connected (the embedded default, offline): the knowledge base's most
 * relevant passages for the question, with their locations, plainly labelled as search results rather than
 * a generated reply, and how to connect a model. Streamed like a model's reply, a passage at a time.
 */
import type { Store } from '../store/types.js';
import type { KbSearch } from './tools.js';

/**
 * How to connect a model, for whoever reads the answer: in the editor the settings and the key command (the
 * daemon's environment variables mean nothing there), with the CLI its help, which lists them.
 */
export const CONNECT_MODEL_HELP =
  'To get generated answers, connect an OpenAI-compatible model: in VS Code, set the base URL and model in Settings › Cairn ' +
  '(a local server such as Ollama: http://127.0.0.1:11434/v1, no key needed) and run "Cairn: Set Model API Key" for a hosted one; ' +
  'with the `cairn` CLI, `cairn --help` lists the environment variables.';

export interface OfflineSource {
  path: string;
  startLine: number;
  endLine: number;
}

function fence(text: string): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((m) => m.length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}\n${text.trimEnd()}\n${ticks}`;
}

/** Streams the offline answer through `emit` and returns the passages it cited. */
export async function offlineAnswer(opts: {
  store: Store;
  question: string;
  root: string | null;
  kbSearch: KbSearch | null;
  signal: AbortSignal;
  emit: (text: string) => void;
  limit?: number;
}): Promise<OfflineSource[]> {
  const { emit, signal } = opts;
  let hits: Awaited<ReturnType<KbSearch>> = [];
  let searchProblem: string | null = null;
  if (!opts.root || !opts.kbSearch) {
    searchProblem = 'This conversation is not tied to a workspace folder, so there is no knowledge base to search.';
  } else {
    try {
      hits = await opts.kbSearch(opts.store, { root: opts.root, query: opts.question, limit: opts.limit ?? 5 }, signal);
    } catch (e) {
      if (signal.aborted) throw e;
      searchProblem = `Searching the knowledge base failed: ${String((e as Error)?.message ?? e).slice(0, 200)}`;
    }
  }

  const parts: string[] = [];
  parts.push('**No chat model is connected**, so this is not a generated answer: ');
  if (hits.length > 0) {
    parts.push(`here ${hits.length === 1 ? 'is the passage' : `are the ${hits.length} passages`} of the knowledge base most relevant to your question.\n\n`);
    hits.forEach((h, i) => {
      parts.push(`${i + 1}. \`${h.path}:${h.startLine}-${h.endLine}\`${h.title && h.title !== h.path ? ` (${h.title})` : ''}\n`);
      parts.push(`${fence(h.snippet)}\n\n`);
    });
  } else if (searchProblem) {
    parts.push(`${searchProblem}\n\n`);
  } else {
    parts.push('the knowledge base has no passage matching your question. If the workspace is not indexed yet, run "Cairn: Index Workspace" (or `cairn index`).\n\n');
  }
  parts.push(CONNECT_MODEL_HELP);

  for (const p of parts) {
    if (signal.aborted) throw signal.reason;
    emit(p);
    // Yield between pieces so each goes out as its own delta, as a model's would.
    await new Promise((r) => setImmediate(r));
  }
  return hits.map((h) => ({ path: h.path, startLine: h.startLine, endLine: h.endLine }));
}
