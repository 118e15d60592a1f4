/**
 * A contract-faithful OpenAI-compatible server on 127.0.0.1 for tests and benchmarks: chat completions
 * (JSON and SSE streaming, tool calls streamed as indexed deltas, a final usage chunk when
 * `stream_options.include_usage` is set), the API's error bodies (401, 429 with retry-after, 500, a stream
 * cut mid-way), embeddings (float and base64) and the model list. Each test scripts the replies and then
 * asserts what the client sent through `requests`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';

export interface ChatRequestMessage {
  role: string;
  content: string | null | Array<{ type: string; text?: string }>;
  tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
  name?: string;
}

export interface ChatRequestBody {
  model: string;
  messages: ChatRequestMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: Array<{ type: 'function'; function: { name: string; description?: string; parameters?: unknown } }>;
  temperature?: number;
  [key: string]: unknown;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
  /** True when the client closed the connection before the reply ended (a cancel). */
  aborted: boolean;
  /** `performance.now()` when the request body had arrived (benchmarks share the clock in one process). */
  receivedAt: number;
  /** `performance.now()` when each content chunk was written, in order. */
  chunkTimes: number[];
  /** The usage this server reported for the request (in the body, or the stream's usage chunk), if any. */
  reportedUsage?: { prompt_tokens: number; completion_tokens: number };
}

export interface ScriptedToolCall {
  id?: string;
  name: string;
  /** An object is JSON-encoded; a string is sent as is (it may be invalid JSON on purpose). */
  arguments: string | Record<string, unknown>;
}

export interface ScriptedReply {
  /** The reply text; an array gives the exact streamed chunks. */
  content?: string | string[];
  toolCalls?: ScriptedToolCall[];
  /** Overrides the usage the server computes (about 4 characters a token). */
  usage?: { prompt_tokens: number; completion_tokens: number };
  /** Answer with the API's error body instead of a completion. */
  error?: { status: 401 | 429 | 500 | 400; message?: string; retryAfterSeconds?: number };
  /** Streaming only: destroy the socket after this many content chunks (a stream cut in the middle). */
  cutAfterChunks?: number;
  /** Streaming only: wait this long before each chunk. */
  chunkDelayMs?: number;
  /** Wait this long before the first byte of the reply (the model's time to first token). */
  firstTokenDelayMs?: number;
}

export type Responder = (body: ChatRequestBody, request: RecordedRequest) => ScriptedReply | Promise<ScriptedReply>;

export interface FakeOpenAIServer {
  /** Base URL including `/v1`, as `ChatOpenAI`'s `configuration.baseURL` wants it. */
  readonly baseURL: string;
  readonly requests: RecordedRequest[];
  /** Chat completion requests only, in order. */
  chatRequests(): ChatRequestBody[];
  /** Embeddings requests only, in order: how many inputs each carried and the encoding it asked for. */
  embeddingRequests(): Array<{ inputs: number; encoding: string | undefined }>;
  /** The options, read at each request: a test changes them between requests (e.g. ends a delay). */
  readonly options: FakeOpenAIOptions;
  setResponder(responder: Responder): void;
  /** Replies once with each of these, in order, then falls back to the responder. */
  queue(...replies: ScriptedReply[]): void;
  close(): Promise<void>;
}

export interface FakeOpenAIOptions {
  /** When set, requests without `Authorization: Bearer <apiKey>` get the API's 401 body. */
  apiKey?: string;
  responder?: Responder;
  models?: string[];
  embeddingDims?: number;
  /** Milliseconds to wait before answering an embeddings request (for timeouts). */
  embeddingDelayMs?: number;
  /** Answer this many dimensions for inputs containing `marker` (a model that misbehaves on some input). */
  wrongDims?: { marker: string; dims: number };
}

/** The text of the last user message of a request (what scripts usually key on). */
export function lastUserMessage(body: ChatRequestBody): string {
  for (let i = body.messages.length - 1; i >= 0; i--) {
    const m = body.messages[i]!;
    if (m.role === 'user') return textOf(m.content);
  }
  return '';
}

/** Tool results present in the request, by tool_call_id. */
export function toolResults(body: ChatRequestBody): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of body.messages) if (m.role === 'tool' && m.tool_call_id) out.set(m.tool_call_id, textOf(m.content));
  return out;
}

export function textOf(content: ChatRequestMessage['content']): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content.map((p) => p.text ?? '').join('');
}

const approxTokens = (s: string) => Math.max(1, Math.ceil(s.length / 4));

/** Splits text into word-sized chunks the way a model streams them. */
export function chunkText(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? (text ? [text] : []);
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}

function apiError(status: number, message: string | undefined, apiKeyHint?: string) {
  switch (status) {
    case 401:
      return {
        error: {
          message: message ?? `Incorrect API key provided: ${apiKeyHint ?? '***'}. You can find your API key at https://platform.openai.com/account/api-keys.`,
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_api_key',
        },
      };
    case 429:
      return { error: { message: message ?? 'Rate limit reached for requests. Please try again later.', type: 'requests', param: null, code: 'rate_limit_exceeded' } };
    case 400:
      return { error: { message: message ?? 'Invalid request.', type: 'invalid_request_error', param: null, code: null } };
    default:
      return { error: { message: message ?? 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null } };
  }
}

/** A deterministic unit vector per input, so equal texts embed equally: what the server answers for embeddings. */
export function fakeEmbedding(text: string, dims: number): Float32Array {
  const v = new Float32Array(dims);
  let seed = createHash('sha256').update(text).digest();
  for (let i = 0; i < dims; i++) {
    if (i % 32 === 0 && i > 0) seed = createHash('sha256').update(seed).digest();
    v[i] = (seed[i % 32]! - 127.5) / 127.5;
  }
  const norm = Math.hypot(...v) || 1;
  for (let i = 0; i < dims; i++) v[i] = v[i]! / norm;
  return v;
}

export async function startOpenAIServer(options: FakeOpenAIOptions = {}): Promise<FakeOpenAIServer> {
  const requests: RecordedRequest[] = [];
  const queued: ScriptedReply[] = [];
  let responder: Responder = options.responder ?? ((body) => ({ content: `You said: ${lastUserMessage(body)}` }));
  const models = options.models ?? ['gpt-4o-mini', 'text-embedding-3-small'];
  const sockets = new Set<import('node:net').Socket>();

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      send(res, 400, apiError(400, 'We could not parse the JSON body of your request.'));
      return;
    }
    const path = (req.url ?? '/').split('?')[0]!;
    const rec: RecordedRequest = { method: req.method ?? 'GET', path, headers: req.headers, body, aborted: false, receivedAt: performance.now(), chunkTimes: [] };
    requests.push(rec);
    res.on('close', () => {
      if (!res.writableFinished) rec.aborted = true;
    });

    if (options.apiKey) {
      const auth = req.headers.authorization ?? '';
      if (auth !== `Bearer ${options.apiKey}`) {
        const given = auth.replace(/^Bearer\s+/, '');
        send(res, 401, apiError(401, undefined, given ? `${given.slice(0, 3)}***${given.slice(-2)}` : undefined));
        return;
      }
    }

    try {
      if (req.method === 'GET' && path === '/v1/models') {
        send(res, 200, { object: 'list', data: models.map((id) => ({ id, object: 'model', created: 1700000000, owned_by: 'cairn-test' })) });
      } else if (req.method === 'POST' && path === '/v1/embeddings') {
        await handleEmbeddings(res, body as { input: string | string[]; model: string; encoding_format?: string; dimensions?: number }, rec);
      } else if (req.method === 'POST' && path === '/v1/chat/completions') {
        const cb = body as ChatRequestBody;
        const reply = queued.length > 0 ? queued.shift()! : await responder(cb, rec);
        await handleChat(req, res, cb, reply, rec);
      } else {
        send(res, 404, { error: { message: `Unknown request URL: ${req.method} ${path}`, type: 'invalid_request_error', param: null, code: 'unknown_url' } });
      }
    } catch (err) {
      if (!res.headersSent) send(res, 500, apiError(500, (err as Error).message));
      else res.destroy();
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function handleEmbeddings(res: ServerResponse, body: { input: string | string[]; model: string; encoding_format?: string; dimensions?: number }, rec: RecordedRequest) {
    const inputs = Array.isArray(body.input) ? body.input : [body.input];
    const dims = body.dimensions ?? options.embeddingDims ?? 16;
    await sleep(options.embeddingDelayMs ?? 0);
    if (res.destroyed) return;
    const data = inputs.map((text, index) => {
      const wrong = options.wrongDims && String(text).includes(options.wrongDims.marker) ? options.wrongDims.dims : null;
      const v = fakeEmbedding(String(text), wrong ?? dims);
      const embedding = body.encoding_format === 'base64' ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') : Array.from(v);
      return { object: 'embedding', index, embedding };
    });
    const tokens = inputs.reduce((n, t) => n + approxTokens(String(t)), 0);
    rec.reportedUsage = { prompt_tokens: tokens, completion_tokens: 0 };
    send(res, 200, { object: 'list', data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
  }

  async function handleChat(req: IncomingMessage, res: ServerResponse, body: ChatRequestBody, reply: ScriptedReply, rec: RecordedRequest) {
    await sleep(reply.firstTokenDelayMs ?? 0);
    if (reply.error) {
      const headers: Record<string, string> = {};
      if (reply.error.retryAfterSeconds != null) headers['retry-after'] = String(reply.error.retryAfterSeconds);
      send(res, reply.error.status, apiError(reply.error.status, reply.error.message), headers);
      return;
    }
    const id = `chatcmpl-${createHash('sha1').update(String(Math.random())).digest('hex').slice(0, 24)}`;
    const created = Math.floor(Date.now() / 1000);
    const contentChunks = Array.isArray(reply.content) ? reply.content : chunkText(reply.content ?? '');
    const content = contentChunks.join('');
    const toolCalls = (reply.toolCalls ?? []).map((t, i) => ({
      id: t.id ?? `call_${id.slice(9, 17)}${i}`,
      name: t.name,
      arguments: typeof t.arguments === 'string' ? t.arguments : JSON.stringify(t.arguments),
    }));
    const finish = toolCalls.length > 0 ? 'tool_calls' : 'stop';
    const promptText = body.messages.map((m) => textOf(m.content) + (m.tool_calls ? JSON.stringify(m.tool_calls) : '')).join('\n');
    const usage = reply.usage ?? {
      prompt_tokens: approxTokens(promptText),
      completion_tokens: approxTokens(content + toolCalls.map((t) => t.name + t.arguments).join('')),
    };
    const fullUsage = { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };

    if (!body.stream) {
      rec.reportedUsage = usage;
      send(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model: body.model,
        system_fingerprint: null,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: toolCalls.length > 0 && !content ? null : content,
              ...(toolCalls.length > 0
                ? { tool_calls: toolCalls.map((t) => ({ id: t.id, type: 'function', function: { name: t.name, arguments: t.arguments } })) }
                : {}),
              refusal: null,
            },
            logprobs: null,
            finish_reason: finish,
          },
        ],
        usage: fullUsage,
      });
      return;
    }

    req.socket.setNoDelay(true);
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.flushHeaders();
    let closed = false;
    // Per response, not per socket: keep-alive sockets carry many requests.
    res.on('close', () => (closed = true));
    const write = (payload: unknown) => {
      if (!closed) res.write(`data: ${JSON.stringify(payload)}\n\n`);
    };
    const chunk = (delta: Record<string, unknown>, finish_reason: string | null = null) =>
      write({ id, object: 'chat.completion.chunk', created, model: body.model, system_fingerprint: null, choices: [{ index: 0, delta, logprobs: null, finish_reason }] });

    chunk({ role: 'assistant', content: '', refusal: null });
    let sent = 0;
    // A cut is a connection dropped after the client has received part of the reply, so the bytes already
    // written are given time to arrive first.
    const cut = async () => {
      await sleep(50);
      res.socket?.destroy();
    };
    for (const piece of contentChunks) {
      await sleep(reply.chunkDelayMs ?? 0);
      if (closed) return;
      if (reply.cutAfterChunks != null && sent >= reply.cutAfterChunks) {
        await cut();
        return;
      }
      chunk({ content: piece });
      rec.chunkTimes.push(performance.now());
      sent++;
    }
    if (reply.cutAfterChunks != null && sent >= reply.cutAfterChunks) {
      await cut();
      return;
    }
    toolCalls.forEach((t, index) => {
      chunk({ tool_calls: [{ index, id: t.id, type: 'function', function: { name: t.name, arguments: '' } }] });
      // Arguments arrive in fragments, as the real API sends them.
      for (let i = 0; i < t.arguments.length; i += 7) chunk({ tool_calls: [{ index, function: { arguments: t.arguments.slice(i, i + 7) } }] });
    });
    chunk({}, finish);
    if (body.stream_options?.include_usage) {
      rec.reportedUsage = usage;
      write({ id, object: 'chat.completion.chunk', created, model: body.model, system_fingerprint: null, choices: [], usage: fullUsage });
    }
    if (!closed) res.end('data: [DONE]\n\n');
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    chatRequests: () => requests.filter((r) => r.path === '/v1/chat/completions').map((r) => r.body as ChatRequestBody),
    embeddingRequests: () =>
      requests
        .filter((r) => r.path === '/v1/embeddings' && r.body !== null)
        .map((r) => {
          const b = r.body as { input: string | string[]; encoding_format?: string };
          return { inputs: Array.isArray(b.input) ? b.input.length : 1, encoding: b.encoding_format };
        }),
    options,
    setResponder(r) {
      responder = r;
    },
    queue(...replies) {
      queued.push(...replies);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
