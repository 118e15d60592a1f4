/**
 * Runtime configuration of the daemon: where its data lives and which models it talks to. Read from the
 * environment at start (the CLI's contract: CAIRN_HOME, CAIRN_DATABASE_URL, CAIRN_MODEL_BASE_URL, CAIRN_MODEL,
 * OPENAI_API_KEY, CAIRN_EMBEDDINGS) and updated in memory by clients (`daemon/configure`), which is how the
 * extension hands over settings and the key from SecretStorage. Keys are never written to disk or logged.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export interface ChatModelConfig {
  /** OpenAI-compatible base URL, e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1. */
  baseUrl: string | null;
  model: string | null;
  apiKey: string | null;
}

export interface EmbeddingsConfig {
  /**
   * `local-hash` is the offline default; `openai` is any OpenAI-compatible embeddings endpoint; `model2vec` is a
   * Model2Vec static model read from the folder in `model` (offline).
   */
  provider: 'local-hash' | 'openai' | 'model2vec';
  /** The model name (openai) or the model folder (model2vec). */
  model: string | null;
  baseUrl: string | null;
  /** A key, or (the team model gateway) a function asked before each request for the user's fresh access token. */
  apiKey: string | null | (() => Promise<string>);
  dimensions: number | null;
}

export interface RuntimeConfig {
  chat: ChatModelConfig;
  embeddings: EmbeddingsConfig;
  /** Extra exclude globs for indexing (gitignore syntax), from settings. */
  excludes: string[];
  /** Files larger than this are skipped by the indexer. */
  maxFileBytes: number;
  /** Globs (gitignore syntax) of files the secret rules leave alone: false positives (`cairn.secrets.allow`). */
  secretsAllow: string[];
}

export function cairnHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.CAIRN_HOME && env.CAIRN_HOME.length > 0 ? env.CAIRN_HOME : join(homedir(), '.cairn');
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  // CAIRN_EMBEDDINGS: local-hash (default), openai, or model2vec:<folder> (~/ is the home folder).
  const choice = env.CAIRN_EMBEDDINGS ?? '';
  const m2v = /^model2vec:(.+)$/.exec(choice);
  const provider = choice === 'openai' ? 'openai' : m2v ? 'model2vec' : 'local-hash';
  const m2vFolder = m2v ? resolve(m2v[1]!.replace(/^~(?=\/|$)/, homedir())) : null;
  return {
    chat: {
      baseUrl: env.CAIRN_MODEL_BASE_URL || null,
      model: env.CAIRN_MODEL || null,
      apiKey: env.OPENAI_API_KEY || null,
    },
    embeddings: {
      provider,
      model: m2vFolder ?? (env.CAIRN_EMBEDDINGS_MODEL || null),
      baseUrl: env.CAIRN_EMBEDDINGS_BASE_URL || env.CAIRN_MODEL_BASE_URL || null,
      apiKey: env.OPENAI_API_KEY || null,
      dimensions: env.CAIRN_EMBEDDINGS_DIMENSIONS ? Number(env.CAIRN_EMBEDDINGS_DIMENSIONS) : null,
    },
    excludes: [],
    maxFileBytes: 1024 * 1024,
    secretsAllow: [],
  };
}

/** The one mutable holder of the runtime config; subsystems read it at the moment they need it. */
export class ConfigHolder {
  private current: RuntimeConfig;
  private readonly listeners = new Set<(c: RuntimeConfig) => void>();

  constructor(initial: RuntimeConfig) {
    this.current = initial;
  }

  get(): RuntimeConfig {
    return this.current;
  }

  update(patch: { chat?: Partial<ChatModelConfig>; embeddings?: Partial<EmbeddingsConfig>; excludes?: string[]; maxFileBytes?: number; secretsAllow?: string[] }): RuntimeConfig {
    this.current = {
      chat: { ...this.current.chat, ...patch.chat },
      embeddings: { ...this.current.embeddings, ...patch.embeddings },
      excludes: patch.excludes ?? this.current.excludes,
      maxFileBytes: patch.maxFileBytes ?? this.current.maxFileBytes,
      secretsAllow: patch.secretsAllow ?? this.current.secretsAllow,
    };
    for (const l of this.listeners) l(this.current);
    return this.current;
  }

  onChange(listener: (c: RuntimeConfig) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
