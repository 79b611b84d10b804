import { checkInteger, checkNumber, optionError } from './errors.js';

/** Linear warm-up to `peakLr`, then cosine decay to `minLr` at `totalSteps` (DeepSeek's pre-training shape). */
export interface CosineSchedule {
  kind: 'cosine';
  peakLr: number;
  /** Steps of linear warm-up from 0 (step 0 uses peakLr/warmupSteps). */
  warmupSteps: number;
  /** Step at which the floor is reached; the rate stays at minLr afterwards. */
  totalSteps: number;
  /** Floor of the decay. */
  minLr: number;
}

/** Optional linear warm-up, then a constant rate. */
export interface ConstantSchedule {
  kind: 'constant';
  lr: number;
  warmupSteps?: number;
}

/** Linear warm-up, then linear decay to `minLr` (default 0) at `totalSteps`. */
export interface LinearSchedule {
  kind: 'linear';
  peakLr: number;
  warmupSteps: number;
  totalSteps: number;
  minLr?: number;
}

export type LrSchedule = CosineSchedule | ConstantSchedule | LinearSchedule;

/** Validates a schedule; errors name the field (`schedule.peakLr`…). */
export function validateSchedule(schedule: LrSchedule): LrSchedule {
  switch (schedule.kind) {
    case 'constant':
      checkNumber('schedule.lr', schedule.lr, 0);
      checkInteger('schedule.warmupSteps', schedule.warmupSteps ?? 0, 0);
      return schedule;
    case 'cosine':
    case 'linear': {
      checkNumber('schedule.peakLr', schedule.peakLr, 0);
      checkInteger('schedule.warmupSteps', schedule.warmupSteps, 0);
      checkInteger('schedule.totalSteps', schedule.totalSteps, 1);
      checkNumber('schedule.minLr', schedule.minLr ?? 0, 0, schedule.peakLr);
      if (schedule.warmupSteps > schedule.totalSteps) {
        optionError(
          'schedule.warmupSteps',
          `(${schedule.warmupSteps}) must not exceed schedule.totalSteps (${schedule.totalSteps})`,
        );
      }
      return schedule;
    }
    default:
      return optionError(
        'schedule.kind',
        `must be 'cosine', 'constant' or 'linear', got '${(schedule as { kind: string }).kind}'`,
      );
  }
}

/**
 * Learning rate used by optimizer step `step` (0-based). Warm-up is linear from
 * peak/warmup at step 0 to peak at step warmup-1, so no step trains with a zero rate.
 * A pure function of the step, so the schedule's state in a checkpoint is the step itself.
 */
export function learningRateAt(schedule: LrSchedule, step: number): number {
  const warmup = schedule.warmupSteps ?? 0;
  const peak = schedule.kind === 'constant' ? schedule.lr : schedule.peakLr;
  if (step < warmup) return (peak * (step + 1)) / warmup;
  if (schedule.kind === 'constant') return peak;
  const minLr = schedule.minLr ?? 0;
  const decaySteps = schedule.totalSteps - warmup;
  const progress = decaySteps <= 0 ? 1 : Math.min(1, (step - warmup) / decaySteps);
  const shape =
    schedule.kind === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress;
  return minLr + (peak - minLr) * shape;
}
