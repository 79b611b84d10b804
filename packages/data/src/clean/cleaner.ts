import { DataReport } from '../report.js';
import type { Document } from '../types.js';
import { type CleaningStage, isRejection } from './stage.js';

/** Runs documents through an ordered list of stages, counting kept/dropped/modified per stage. */
export class Cleaner {
  readonly stages: CleaningStage[];
  readonly report: DataReport;

  constructor(options: { stages: CleaningStage[]; report?: DataReport }) {
    this.stages = options.stages;
    this.report = options.report ?? new DataReport();
  }

  /** The documents that survive every stage (none, one, or several after splitting). */
  process(doc: Document): Document[] {
    return this.runStages([doc], 0, this.stages.length);
  }

  /**
   * The same as {@link process} on each document, in order, with the same counts. Stages
   * marked `batchwise` run over the whole batch at once (their model stays hot in the CPU
   * caches); the others run document by document, so consecutive stages share per-text work
   * such as the word scan.
   */
  processBatch(docs: Document[]): Document[] {
    let current = docs;
    let s = 0;
    while (s < this.stages.length && current.length > 0) {
      let end = s + 1;
      if (!this.stages[s]!.batchwise)
        while (end < this.stages.length && !this.stages[end]!.batchwise) end++;
      if (end === s + 1) current = this.runStages(current, s, end);
      else {
        const next: Document[] = [];
        for (const d of current) for (const out of this.runStages([d], s, end)) next.push(out);
        current = next;
      }
      s = end;
    }
    return current;
  }

  /** Runs `docs` through stages [from, to), stage by stage. */
  private runStages(docs: Document[], from: number, to: number): Document[] {
    let current = docs;
    for (let s = from; s < to; s++) {
      const stage = this.stages[s]!;
      const stats = this.report.stage(stage.name);
      const next: Document[] = [];
      for (const d of current) {
        stats.input++;
        let result: ReturnType<CleaningStage['apply']>;
        try {
          result = stage.apply(d);
        } catch (error) {
          // A stage bug on one odd document must not end the run; it is reported instead.
          this.report.reject(stats, d.id, 'stage_error', (error as Error).message);
          continue;
        }
        if (Array.isArray(result)) {
          stats.modified++;
          stats.output += result.length;
          for (const r of result) next.push(r);
        } else if (isRejection(result))
          this.report.reject(stats, d.id, result.reason, result.detail);
        else {
          if (result.text !== d.text) stats.modified++;
          stats.output++;
          next.push(result);
        }
      }
      current = next;
      if (current.length === 0) break;
    }
    return current;
  }
}
