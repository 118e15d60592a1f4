/** File-level retrieval metrics of one question, and their means over a set. */

export const CUTOFF = 10;

export interface QuestionScore {
  /** 1-based rank of the first relevant file within the cutoff, or null. */
  firstRelevant: number | null;
  reciprocalRank: number;
  ndcg: number;
  recall: number;
  hit1: number;
}

/**
 * Files in the order their first chunk appears in a ranked chunk list (a file is as good as its best chunk).
 */
export function rankFiles(chunkPaths: string[], cutoff = CUTOFF): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const p of chunkPaths) {
    if (seen.has(p)) continue;
    seen.add(p);
    out.push(p);
    if (out.length === cutoff) break;
  }
  return out;
}

/** MRR@k, binary nDCG@k, recall@k and hit@1 for one ranked file list against the relevant files. */
export function scoreQuestion(ranked: string[], relevant: string[], cutoff = CUTOFF): QuestionScore {
  const rel = new Set(relevant);
  const top = ranked.slice(0, cutoff);
  let first: number | null = null;
  let dcg = 0;
  let found = 0;
  top.forEach((p, i) => {
    if (!rel.has(p)) return;
    if (first === null) first = i + 1;
    dcg += 1 / Math.log2(i + 2);
    found++;
  });
  let idcg = 0;
  for (let i = 0; i < Math.min(rel.size, cutoff); i++) idcg += 1 / Math.log2(i + 2);
  return {
    firstRelevant: first,
    reciprocalRank: first ? 1 / first : 0,
    ndcg: idcg > 0 ? dcg / idcg : 0,
    recall: rel.size > 0 ? found / rel.size : 0,
    hit1: first === 1 ? 1 : 0,
  };
}

export interface EngineFigures {
  mrr: number;
  ndcg: number;
  recall: number;
  hit1: number;
  latencyMs: { p50: number; p95: number };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
const r3 = (x: number) => Math.round(x * 1000) / 1000;

export function summarise(scores: QuestionScore[], latenciesMs: number[]): EngineFigures {
  return {
    mrr: r3(mean(scores.map((s) => s.reciprocalRank))),
    ndcg: r3(mean(scores.map((s) => s.ndcg))),
    recall: r3(mean(scores.map((s) => s.recall))),
    hit1: r3(mean(scores.map((s) => s.hit1))),
    latencyMs: { p50: Math.round(percentile(latenciesMs, 0.5) * 10) / 10, p95: Math.round(percentile(latenciesMs, 0.95) * 10) / 10 },
  };
}

/** a ÷ b per metric (null where b is 0). */
export function ratios(a: EngineFigures, b: EngineFigures): { mrr: number | null; ndcg: number | null; recall: number | null; hit1: number | null } {
  const q = (x: number, y: number) => (y > 0 ? Math.round((x / y) * 100) / 100 : null);
  return { mrr: q(a.mrr, b.mrr), ndcg: q(a.ndcg, b.ndcg), recall: q(a.recall, b.recall), hit1: q(a.hit1, b.hit1) };
}
