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
    let current: Document[] = [doc];
    for (const stage of this.stages) {
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
          next.push(...result);
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
