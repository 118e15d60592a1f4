/**
 * Chat overhead of the daemon between the model's stream and a WebSocket client, measured with the real
 * daemon (embedded store, chat subsystem, WebSocket transport), the real `@langchain/openai` client and the
 * fake OpenAI-compatible server, all in this process so they share one clock:
 *
 * - per delta: time from the model server writing a content chunk to the client receiving its `chat/delta`,
 *   next to the same figure for `ChatOpenAI.stream()` alone (no daemon); the difference is the daemon's part
 *   (LangGraph agent stream, publish, JSON-RPC over WebSocket). Target: under 1 ms at p50.
 * - before the first token: `chat/send` to the first `chat/delta`, minus the model's own time to first token
 *   (request received to first content chunk written). Includes committing the user message and the reply
 *   row, loading history and starting the agent. Target: under 25 ms.
 * - loop start: from starting a reply's stream to the model server receiving the request, for langchain's
 *   `createAgent` graph and for `model.bindTools(tools).stream()`, the loop the orchestrator uses. This is
 *   the measurement behind that choice (see daemon/src/chat/orchestrator.ts).
 */
import { ChatOpenAI } from '@langchain/openai';
import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { createAgent, modelCallLimitMiddleware, toolCallLimitMiddleware } from 'langchain';
import { z } from 'zod';
import { startHarness } from '../test/chat/harness.js';
import { startOpenAIServer } from '../test/support/openai-server.js';

export interface ChatBenchResult {
  name: 'chat';
  replies: number;
  deltasPerReply: number;
  perDeltaMs: { p50: number; p95: number };
  perDeltaWithoutDaemonMs: { p50: number; p95: number };
  daemonAddedPerDeltaMs: { p50: number; p95: number };
  sendToFirstDeltaMinusModelTtftMs: { p50: number; p95: number };
  sendAnsweredMs: { p50: number; p95: number };
  loopStartToRequestMs: { createAgent: { p50: number; p95: number }; bindToolsStream: { p50: number; p95: number } };
  targets: { perDeltaP50Ms: 1; beforeFirstTokenMs: 25 };
}

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return Math.round(s[i]! * 1000) / 1000;
}

const stats = (v: number[]) => ({ p50: pct(v, 50), p95: pct(v, 95) });

export async function run(opts: { replies?: number; words?: number; chunkDelayMs?: number } = {}): Promise<ChatBenchResult> {
  const replies = opts.replies ?? 20;
  const words = opts.words ?? 40;
  const chunkDelayMs = opts.chunkDelayMs ?? 5;
  const text = Array.from({ length: words }, (_, i) => `tok${i}`).join(' ');
  const h = await startHarness({ model: { responder: () => ({ content: text, chunkDelayMs }) }, chat: { titleWithModel: false } });
  try {
    const rc = await h.connect();
    const client = rc.client;
    const arrivals = new Map<string, number[]>();
    client.onNotification('chat/delta', (d) => {
      const at = performance.now();
      if (d.delta.length > 0) arrivals.set(d.messageId, [...(arrivals.get(d.messageId) ?? []), at]);
    });

    const perDelta: number[] = [];
    const beforeFirst: number[] = [];
    const answered: number[] = [];
    let sessionId: string | undefined;
    // Two warm-up replies load the agent graph, the HTTP keep-alive connection and PGlite's caches.
    for (let i = -2; i < replies; i++) {
      const t0 = performance.now();
      const sent = await client.request('chat/send', { ...(sessionId ? { sessionId } : { root: h.workspace }), content: `question ${i}` });
      const t1 = performance.now();
      sessionId = sent.sessionId;
      await rc.done(sent.replyId);
      if (i < 0) continue;
      const req = h.model!.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!;
      const got = arrivals.get(sent.replyId) ?? [];
      if (got.length !== req.chunkTimes.length) throw new Error(`got ${got.length} deltas for ${req.chunkTimes.length} chunks`);
      got.forEach((at, j) => perDelta.push(at - req.chunkTimes[j]!));
      const modelTtft = req.chunkTimes[0]! - req.receivedAt;
      beforeFirst.push(got[0]! - t0 - modelTtft);
      answered.push(t1 - t0);
    }

    // The same stream read by ChatOpenAI alone, for the share of latency that is not the daemon's.
    const model = new ChatOpenAI({ model: 'gpt-test', apiKey: 'sk-test-key', configuration: { baseURL: h.model!.baseURL }, maxRetries: 0, streamUsage: true });
    const bare: number[] = [];
    for (let i = -2; i < replies; i++) {
      const times: number[] = [];
      for await (const c of await model.stream(`question ${i}`)) if (c.text.length > 0) times.push(performance.now());
      if (i < 0) continue;
      const req = h.model!.requests.at(-1)!;
      times.forEach((at, j) => bare.push(at - req.chunkTimes[j]!));
    }

    const total = stats(perDelta);
    const without = stats(bare);
    const result: ChatBenchResult = {
      name: 'chat',
      replies,
      deltasPerReply: words,
      perDeltaMs: total,
      perDeltaWithoutDaemonMs: without,
      daemonAddedPerDeltaMs: { p50: Math.round((total.p50 - without.p50) * 1000) / 1000, p95: Math.round((total.p95 - without.p95) * 1000) / 1000 },
      sendToFirstDeltaMinusModelTtftMs: stats(beforeFirst),
      sendAnsweredMs: stats(answered),
      loopStartToRequestMs: await loopStart(replies),
      targets: { perDeltaP50Ms: 1, beforeFirstTokenMs: 25 },
    };
    return result;
  } finally {
    await h.close();
  }
}

/** Time from starting a stream to the request reaching the model server, for the two agent loops. */
async function loopStart(runs: number): Promise<ChatBenchResult['loopStartToRequestMs']> {
  const server = await startOpenAIServer({ responder: () => ({ content: 'hello there' }) });
  try {
    const model = new ChatOpenAI({ model: 'gpt-test', apiKey: 'k', configuration: { baseURL: server.baseURL }, maxRetries: 1, streamUsage: true });
    const tools = ['search_knowledge_base', 'read_file', 'list_files', 'grep', 'create_task', 'update_task'].map((name) =>
      tool(async () => 'ok', { name, description: name, schema: z.object({ q: z.string() }) }),
    );
    const messages = [new SystemMessage('You are Cairn.'), new HumanMessage('hi')];
    const graphTimes: number[] = [];
    const directTimes: number[] = [];
    for (let i = -2; i < runs; i++) {
      let t0 = performance.now();
      const agent = createAgent({ model, tools, middleware: [toolCallLimitMiddleware({ runLimit: 8 }), modelCallLimitMiddleware({ runLimit: 10, exitBehavior: 'end' })] });
      for await (const _ of await agent.stream({ messages }, { streamMode: ['messages', 'updates'] })) void _;
      if (i >= 0) graphTimes.push(server.requests.at(-1)!.receivedAt - t0);
      t0 = performance.now();
      for await (const _ of await model.bindTools(tools).stream(messages)) void _;
      if (i >= 0) directTimes.push(server.requests.at(-1)!.receivedAt - t0);
    }
    return { createAgent: stats(graphTimes), bindToolsStream: stats(directTimes) };
  } finally {
    await server.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run();
  console.log(JSON.stringify(r, null, 2));
  setTimeout(() => process.exit(0), 200).unref();
}
