import { SeededRandom } from '@deepline/core';
import { invalidRequest } from '../errors.js';

/** How the next token is chosen. Defaults follow OpenAI/vLLM (every knob off, temperature 1). */
export interface SamplingParams {
  /** 0 selects greedy decoding; otherwise logits are divided by it. */
  temperature: number;
  /** Keep only the k most likely tokens; 0 disables. */
  topK: number;
  /** Keep the smallest set of tokens whose probability mass reaches p; 1 disables. */
  topP: number;
  /** HF/vLLM repetition penalty over prompt and generated tokens; 1 disables. */
  repetitionPenalty: number;
  /** OpenAI presence penalty over generated tokens (subtracted once per distinct token). */
  presencePenalty: number;
  /** OpenAI frequency penalty over generated tokens (subtracted once per occurrence). */
  frequencyPenalty: number;
  /** Seed for reproducible sampling; omitted → a random seed. */
  seed?: number;
}

export const DEFAULT_SAMPLING: SamplingParams = {
  temperature: 1,
  topK: 0,
  topP: 1,
  repetitionPenalty: 1,
  presencePenalty: 0,
  frequencyPenalty: 0,
};

/** Checks ranges (OpenAI's where it defines them) and fills defaults. Throws a 400 ServingError naming the field. */
export function resolveSamplingParams(partial: Partial<SamplingParams> = {}): SamplingParams {
  const p = { ...DEFAULT_SAMPLING, ...stripUndefined(partial) };
  const check = (ok: boolean, field: string, rule: string) => {
    if (!ok) throw invalidRequest(`${field} ${rule}`, field);
  };
  check(Number.isFinite(p.temperature) && p.temperature >= 0 && p.temperature <= 2, 'temperature', 'must be between 0 and 2');
  check(Number.isInteger(p.topK) && p.topK >= 0, 'top_k', 'must be a non-negative integer (0 or -1 disables)');
  check(Number.isFinite(p.topP) && p.topP > 0 && p.topP <= 1, 'top_p', 'must be in (0, 1]');
  check(Number.isFinite(p.repetitionPenalty) && p.repetitionPenalty > 0, 'repetition_penalty', 'must be > 0');
  check(Number.isFinite(p.presencePenalty) && Math.abs(p.presencePenalty) <= 2, 'presence_penalty', 'must be between -2 and 2');
  check(Number.isFinite(p.frequencyPenalty) && Math.abs(p.frequencyPenalty) <= 2, 'frequency_penalty', 'must be between -2 and 2');
  if (p.seed !== undefined) check(Number.isSafeInteger(p.seed), 'seed', 'must be an integer');
  return p;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Per-sequence token chooser. Order of logit processing follows vLLM: penalties, then
 * temperature, top-k, top-p, then a draw from the renormalised distribution.
 */
export class Sampler {
  readonly params: SamplingParams;
  private readonly random: SeededRandom;
  /** Occurrences of each generated token (presence/frequency penalties). */
  private readonly outputCounts = new Map<number, number>();
  /** Every token seen, prompt included (repetition penalty). */
  private readonly seen = new Set<number>();

  constructor(options: { params: SamplingParams; promptTokens?: readonly number[] }) {
    this.params = options.params;
    this.random = new SeededRandom(options.params.seed ?? Math.floor(Math.random() * 2 ** 32));
    for (const t of options.promptTokens ?? []) this.seen.add(t);
  }

  /** True when the choice is the plain argmax of the logits (temperature 0, no penalties). */
  get greedy(): boolean {
    return this.params.temperature === 0 && !this.penalised;
  }

  /** Whether any penalty changes the logits. */
  private get penalised(): boolean {
    const { repetitionPenalty, presencePenalty, frequencyPenalty } = this.params;
    return repetitionPenalty !== 1 || presencePenalty !== 0 || frequencyPenalty !== 0;
  }

  /** Records a generated token so later penalties account for it. */
  accept(token: number): void {
    this.outputCounts.set(token, (this.outputCounts.get(token) ?? 0) + 1);
    this.seen.add(token);
  }

  /** Chooses the next token from raw logits (not modified). */
  sample(logits: Float32Array): number {
    // Greedy without penalties (the common serving case) reads the logits in place.
    if (this.greedy) return argmax(logits);
    const adjusted = this.applyPenalties(logits);
    if (this.params.temperature === 0) return argmax(adjusted);
    const probs = this.distribution(adjusted);
    let u = this.random.next();
    let last = -1;
    for (const [token, p] of probs) {
      last = token;
      u -= p;
      if (u < 0) return token;
    }
    return last;
  }

  /**
   * The final distribution the sampler draws from, as (token, probability) pairs in
   * descending probability; exposed so tests can compare it with a hand computation.
   */
  distribution(adjustedLogits: Float32Array): Array<[number, number]> {
    const { temperature, topK, topP } = this.params;
    const order = candidateOrder(adjustedLogits, topK);
    const max = adjustedLogits[order[0]!]!;
    const weights = order.map((t) => Math.exp((adjustedLogits[t]! - max) / temperature));
    const total = weights.reduce((a, b) => a + b, 0);
    const kept: Array<[number, number]> = [];
    let mass = 0;
    for (let i = 0; i < order.length; i++) {
      const p = weights[i]! / total;
      if (!Number.isFinite(p) || (p === 0 && kept.length > 0)) break;
      kept.push([order[i]!, p]);
      mass += p;
      if (topP < 1 && mass >= topP) break;
    }
    const keptMass = kept.reduce((a, [, p]) => a + p, 0);
    return kept.map(([t, p]) => [t, p / keptMass]);
  }

  /** Logits after repetition, presence and frequency penalties (a copy). */
  applyPenalties(logits: Float32Array): Float32Array {
    const out = Float32Array.from(logits);
    const { repetitionPenalty, presencePenalty, frequencyPenalty } = this.params;
    if (repetitionPenalty !== 1) {
      for (const t of this.seen) {
        if (t < 0 || t >= out.length) continue;
        const v = out[t]!;
        out[t] = v > 0 ? v / repetitionPenalty : v * repetitionPenalty;
      }
    }
    if (presencePenalty !== 0 || frequencyPenalty !== 0) {
      for (const [t, count] of this.outputCounts) {
        if (t < 0 || t >= out.length) continue;
        out[t] = out[t]! - presencePenalty - frequencyPenalty * count;
      }
    }
    return out;
  }
}

/** Index of the largest value; the lowest index wins ties (same as tf.argMax). */
export function argmax(values: Float32Array): number {
  let best = 0;
  let bestValue = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

/** Token ids by descending logit, cut to the top k (0 = all finite ones). */
function candidateOrder(logits: Float32Array, topK: number): number[] {
  const k = topK > 0 ? Math.min(topK, logits.length) : logits.length;
  const ids: number[] = [];
  for (let i = 0; i < logits.length; i++) if (logits[i]! > Number.NEGATIVE_INFINITY) ids.push(i);
  if (k < ids.length && k <= 64) {
    // Partial selection: a small top-k over a large vocabulary needs no full sort.
    const top: number[] = [];
    for (const id of ids) {
      const v = logits[id]!;
      if (top.length < k || v > logits[top[top.length - 1]!]!) {
        let j = top.length < k ? top.length : k - 1;
        while (j > 0 && logits[top[j - 1]!]! < v) {
          top[j] = top[j - 1]!;
          j--;
        }
        top[j] = id;
        if (top.length > k) top.length = k;
      }
    }
    return top;
  }
  ids.sort((a, b) => logits[b]! - logits[a]! || a - b);
  return ids.slice(0, k);
}
