import { SeededRandom } from '@deepline/core';
import { DataError } from '../errors.js';
import { hashString } from '../clean/textStats.js';

/**
 * Deterministic, seeded, stratified assignment of a stream of documents to splits. Within each
 * stratum the next document goes to a split that is behind its quota, chosen at random in
 * proportion to how far behind it is; so after n documents of a stratum every split holds
 * its fraction of them to within one document, in any prefix of the stream.
 */
export class SplitAssigner {
  readonly names: string[];
  private readonly fractions: number[];
  private readonly seed: number;
  private readonly strata = new Map<
    string,
    { rng: SeededRandom; counts: number[]; total: number }
  >();

  constructor(options: { fractions: Record<string, number>; seed?: number }) {
    this.names = Object.keys(options.fractions);
    const values = Object.values(options.fractions);
    const sum = values.reduce((a, b) => a + b, 0);
    if (this.names.length === 0 || values.some((v) => !(v >= 0)) || Math.abs(sum - 1) > 1e-6) {
      throw new DataError(
        `split fractions must be non-negative and sum to 1, got ${JSON.stringify(options.fractions)}`,
        {
          code: 'BAD_OPTION',
          context: { field: 'split.fractions' },
        },
      );
    }
    this.fractions = values;
    this.seed = options.seed ?? 0;
  }

  /** The split for the next document of `stratum`. */
  assign(stratum = ''): string {
    let s = this.strata.get(stratum);
    if (!s) {
      s = {
        rng: new SeededRandom(hashString(stratum, this.seed >>> 0)),
        counts: this.fractions.map(() => 0),
        total: 0,
      };
      this.strata.set(stratum, s);
    }
    s.total++;
    let deficitSum = 0;
    const deficits = this.fractions.map((f, i) => {
      const d = Math.max(0, s.total * f - s.counts[i]!);
      deficitSum += d;
      return d;
    });
    let pick = s.rng.next() * deficitSum;
    let chosen = deficits.findIndex((d) => d > 0);
    for (let i = 0; i < deficits.length; i++) {
      if (deficits[i]! <= 0) continue;
      chosen = i;
      pick -= deficits[i]!;
      if (pick < 0) break;
    }
    s.counts[chosen]!++;
    return this.names[chosen]!;
  }

  /** Documents per stratum and split so far. */
  counts(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [stratum, s] of this.strata) {
      out[stratum] = Object.fromEntries(this.names.map((n, i) => [n, s.counts[i]!]));
    }
    return out;
  }
}
