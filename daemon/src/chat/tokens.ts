/**
 * Offline token counting with the cl100k_base ranks bundled in js-tiktoken: nothing is fetched at run time
 * (`getEncoding` from js-tiktoken's main entry and `@langchain/openai`'s own counter both download ranks).
 * cl100k is exact for GPT-3.5/4 and close enough for other models to keep a context budget.
 */
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k_base from 'js-tiktoken/ranks/cl100k_base';
import type { BaseMessage } from '@langchain/core/messages';

let encoder: Tiktoken | null = null;

export function countTokens(text: string): number {
  encoder ??= new Tiktoken(cl100k_base);
  return encoder.encode(text).length;
}

/** Per-message framing the chat format adds (role and separators), as OpenAI's cookbook counts it. */
const PER_MESSAGE = 4;

export function countMessageTokens(messages: BaseMessage[]): number {
  let n = 3;
  for (const m of messages) {
    n += PER_MESSAGE + countTokens(typeof m.content === 'string' ? m.content : JSON.stringify(m.content));
    const calls = (m as { tool_calls?: unknown[] }).tool_calls;
    if (calls && calls.length > 0) n += countTokens(JSON.stringify(calls));
  }
  return n;
}
