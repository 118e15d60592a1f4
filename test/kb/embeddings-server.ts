/**
 * An OpenAI-compatible `/v1/embeddings` endpoint on 127.0.0.1 whose misbehaviour a test chooses: a wrong
 * key (the API's 401 body), a slow answer (for timeouts), vectors of the wrong length. Answers in float or
 * base64 (little-endian float32) as the client asks, like the real API.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { localHashEmbed } from '../../daemon/src/kb/embed.js';

export interface EmbeddingsServerOptions {
  dims: number;
  apiKey?: string;
  /** Milliseconds to wait before answering. */
  delayMs?: number;
  /** Answer this many dimensions for inputs containing `marker` (a model that misbehaves on some input). */
  wrongDims?: { marker: string; dims: number };
}

export interface EmbeddingsServer {
  baseURL: string;
  requests: { inputs: number; encoding: string | undefined }[];
  options: EmbeddingsServerOptions;
  close(): Promise<void>;
}

export async function startEmbeddingsServer(options: EmbeddingsServerOptions): Promise<EmbeddingsServer> {
  const requests: EmbeddingsServer['requests'] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const send = (status: number, body: unknown) => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const rec: { inputs: number; encoding: string | undefined } = { inputs: 0, encoding: undefined };
    requests.push(rec);
    if (options.apiKey && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      send(401, { error: { message: 'Incorrect API key provided: sk-wr***ng.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
      return;
    }
    if (req.url !== '/v1/embeddings') {
      send(404, { error: { message: `Unknown request URL: ${req.url}`, type: 'invalid_request_error' } });
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { input: string | string[]; model: string; encoding_format?: string };
    const inputs = Array.isArray(body.input) ? body.input : [body.input];
    rec.inputs = inputs.length;
    rec.encoding = body.encoding_format;
    if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
    const data = inputs.map((text, index) => {
      const dims = options.wrongDims && text.includes(options.wrongDims.marker) ? options.wrongDims.dims : options.dims;
      const v = localHashEmbed(text, dims);
      const embedding = body.encoding_format === 'base64' ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') : Array.from(v);
      return { object: 'embedding', index, embedding };
    });
    send(200, { object: 'list', data, model: body.model, usage: { prompt_tokens: inputs.length, total_tokens: inputs.length } });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    options,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
