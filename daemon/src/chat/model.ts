/**
 * The chat model: `ChatOpenAI` against any OpenAI-compatible endpoint (OpenAI, Ollama, LM Studio, vLLM,
 * llama.cpp server). Settings come from the ConfigHolder at the moment of each reply, so a key handed over
 * by the extension applies to the next message; the key lives only in memory.
 *
 * Always call `.stream()` (directly or through the agent graph): `invoke()` on a model built with
 * `streaming: true` counts tokens after the stream with a tokenizer it downloads, which hangs offline.
 */
import { ChatOpenAI } from '@langchain/openai';
import type { ChatModelConfig } from '../config.js';

export const DEFAULT_MODEL = 'gpt-4o-mini';
export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

export interface ModelChoice {
  baseUrl: string;
  model: string;
  apiKey: string;
  /** False when no key was set (a local server takes any, so a placeholder is sent). */
  keySet: boolean;
}

/**
 * What the config points at, or null when no model is connected (the offline default): a base URL or a key is
 * needed. Local servers take any key, so a base URL alone is enough.
 */
export function resolveModel(config: ChatModelConfig, agentModel?: string | null): ModelChoice | null {
  if (!config.baseUrl && !config.apiKey) return null;
  return {
    baseUrl: config.baseUrl ?? OPENAI_BASE_URL,
    model: agentModel || config.model || DEFAULT_MODEL,
    apiKey: config.apiKey ?? 'not-needed',
    keySet: config.apiKey !== null,
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || /^127\./.test(host);
}

/**
 * What is wrong with a model choice before any request is made, in words that name the fix, or null. A base
 * URL without a scheme (`localhost:11434`) would otherwise fail as "connection failed"; a hosted provider
 * without a key would answer 401, which reads as a wrong key when none was set.
 */
export function checkModelChoice(choice: ModelChoice): { code: 'ModelNotConfigured'; message: string } | null {
  const raw = choice.baseUrl.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    const suggestion = /^[\w.-]+:\d+/.test(raw) || /^localhost\b/i.test(raw) ? `http://${raw}` : `https://${raw}`;
    return { code: 'ModelNotConfigured', message: `The model base URL “${raw}” has no scheme: add http:// or https:// (e.g. ${suggestion}).` };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { code: 'ModelNotConfigured', message: `The model base URL “${raw}” is not a valid URL.` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { code: 'ModelNotConfigured', message: `The model base URL “${raw}” must start with http:// or https://.` };
  }
  if (!choice.keySet && !isLoopback(url.hostname)) {
    return { code: 'ModelNotConfigured', message: `No API key set for ${choice.baseUrl}.` };
  }
  return null;
}

const models = new Map<string, ChatOpenAI>();

/**
 * The model for these settings, reused across replies: building the OpenAI client per message costs
 * milliseconds before the first token. The cache key holds the key in memory only, like the config does.
 */
export function chatModelFor(choice: ModelChoice, temperature: number | null): ChatOpenAI {
  const key = JSON.stringify([choice.baseUrl, choice.model, choice.apiKey, temperature]);
  let m = models.get(key);
  if (!m) {
    // A changed key or URL makes a new entry; the few old ones are dropped rather than kept forever.
    if (models.size >= 8) models.clear();
    m = createChatModel(choice, { temperature });
    models.set(key, m);
  }
  return m;
}

export function createChatModel(choice: ModelChoice, opts: { temperature?: number | null; maxRetries?: number } = {}): ChatOpenAI {
  return new ChatOpenAI({
    model: choice.model,
    apiKey: choice.apiKey,
    configuration: { baseURL: choice.baseUrl },
    ...(opts.temperature != null ? { temperature: opts.temperature } : {}),
    // One retry covers a dropped connection before the first token; more would stall the visible reply
    // behind backoff, and a retry after tokens were shown cannot happen anyway (the stream is consumed).
    maxRetries: opts.maxRetries ?? 1,
    streamUsage: true,
    timeout: 120_000,
  });
}

/** The SQLSTATE-like reason the team model gateway gives for its budgets and rates (HTTP 429). */
export const GATEWAY_LIMIT_SQLSTATE = 'CR005';

/** A retry-after in seconds as a person reads it: "41 s", "12 min", "5 h", "24 days (2027-01-01 00:00 UTC)". */
export function describeWait(seconds: number, now = Date.now()): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  const at = new Date(now + seconds * 1000).toISOString().slice(0, 16).replace('T', ' ');
  if (seconds < 48 * 3600) return `${Math.round(seconds / 3600)} h (${at} UTC)`;
  return `${Math.round(seconds / 86400)} days (${at} UTC)`;
}

export interface ProviderFailure {
  /** InternalError when the failure is ours, not the provider's. */
  code: 'ProviderError' | 'QuotaExceeded' | 'InternalError';
  message: string;
}

/**
 * A readable reason for a provider failure, naming the endpoint but never the key. The OpenAI SDK's
 * messages can quote part of the key (401 bodies do), so only the status and our own words are used.
 */
export function describeProviderError(err: unknown, choice: ModelChoice): ProviderFailure {
  const e = err as { status?: number; code?: string; name?: string; message?: string; headers?: Record<string, string> | Headers; lc_error_code?: string };
  const where = `${choice.model} at ${choice.baseUrl}`;
  const status = e?.status;
  if (status === 401 || status === 403) {
    if (!choice.keySet) return { code: 'ProviderError', message: `No API key set for ${choice.baseUrl}, and the server there wants one (HTTP ${status}).` };
    return { code: 'ProviderError', message: `The model provider refused the API key (HTTP ${status}) for ${where}. Set a valid key for ${choice.baseUrl}.` };
  }
  if (status === 405) {
    return {
      code: 'ProviderError',
      message: `The server at ${choice.baseUrl} does not take chat requests there (HTTP 405 Method Not Allowed): the base URL is probably wrong. An OpenAI-compatible base URL usually ends in /v1 (e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1).`,
    };
  }
  if (status === 429) {
    let retry = '';
    const h = e.headers;
    const ra = h ? (typeof (h as Headers).get === 'function' ? (h as Headers).get('retry-after') : (h as Record<string, string>)['retry-after']) : null;
    const body = (err as { error?: { code?: unknown; type?: unknown; message?: unknown } }).error;
    if (e.code === GATEWAY_LIMIT_SQLSTATE || body?.code === GATEWAY_LIMIT_SQLSTATE) {
      // The team gateway's own limits: its message says whose budget or rate, in its words.
      const what = body?.type === 'rate_limit_exceeded' ? 'over the team\'s request rate' : 'over budget';
      const detail = typeof body?.message === 'string' ? ` ${body.message.replace(/\s*Retry after \d+ s\.?\s*$/, '')}` : '';
      const when = ra && /^\d+$/.test(ra) ? `retry after ${describeWait(Number(ra))}` : 'retry later';
      return { code: 'QuotaExceeded', message: `The team model gateway says you are ${what}, ${when}.${detail}` };
    }
    if (ra) retry = ` Retry after ${ra} s.`;
    return { code: 'QuotaExceeded', message: `The model provider is rate limiting requests (HTTP 429) for ${where}.${retry}` };
  }
  if (status === 404) {
    return { code: 'ProviderError', message: `The model provider does not know model ${choice.model} (HTTP 404) at ${choice.baseUrl}; check the model name, and that the base URL is the API's (it usually ends in /v1).` };
  }
  if (typeof status === 'number') return { code: 'ProviderError', message: `The model provider failed (HTTP ${status}) for ${where}.` };
  const msg = String(e?.message ?? err);
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|Connection error|fetch failed/i.test(msg)) {
    return { code: 'ProviderError', message: `Could not reach the model provider at ${choice.baseUrl} (connection failed).` };
  }
  if (/terminated|socket|ECONNRESET|premature|aborted/i.test(msg)) {
    return { code: 'ProviderError', message: `The connection to the model provider at ${choice.baseUrl} broke in the middle of the reply.` };
  }
  const fromProvider = /APIError|OpenAI/i.test(String(e?.name)) || e?.lc_error_code != null;
  return {
    code: fromProvider ? 'ProviderError' : 'InternalError',
    message: `${fromProvider ? `The model provider failed for ${where}` : 'The reply failed'}: ${msg.replace(/sk-[\w-]+/g, 'sk-***').slice(0, 300)}`,
  };
}
