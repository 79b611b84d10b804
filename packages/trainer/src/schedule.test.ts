import { describe, expect, it } from 'vitest';
import { TrainerError } from './errors.js';
import { type LrSchedule, learningRateAt, validateSchedule } from './schedule.js';

describe('learning-rate schedules', () => {
  const cosine: LrSchedule = {
    kind: 'cosine',
    peakLr: 1e-3,
    warmupSteps: 4,
    totalSteps: 12,
    minLr: 1e-4,
  };

  it('cosine: linear warm-up, cosine decay to the floor, then the floor', () => {
    // Hand-computed: warm-up (s+1)/4·peak; decay progress p=(s-4)/8, lr = min + (peak-min)·(1+cos πp)/2.
    expect(learningRateAt(cosine, 0)).toBeCloseTo(2.5e-4, 12);
    expect(learningRateAt(cosine, 3)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(cosine, 4)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(cosine, 6)).toBeCloseTo(8.681980515339464e-4, 12);
    expect(learningRateAt(cosine, 8)).toBeCloseTo(5.5e-4, 12);
    expect(learningRateAt(cosine, 12)).toBeCloseTo(1e-4, 12);
    expect(learningRateAt(cosine, 50)).toBeCloseTo(1e-4, 12);
  });

  it('linear decay and constant', () => {
    const linear: LrSchedule = {
      kind: 'linear',
      peakLr: 1e-3,
      warmupSteps: 4,
      totalSteps: 12,
      minLr: 1e-4,
    };
    expect(learningRateAt(linear, 1)).toBeCloseTo(5e-4, 12);
    expect(learningRateAt(linear, 6)).toBeCloseTo(7.75e-4, 12);
    expect(learningRateAt(linear, 12)).toBeCloseTo(1e-4, 12);
    const constant: LrSchedule = { kind: 'constant', lr: 0.01, warmupSteps: 2 };
    expect([0, 1, 2, 100].map((s) => learningRateAt(constant, s))).toEqual([
      0.005, 0.01, 0.01, 0.01,
    ]);
    expect(learningRateAt({ kind: 'constant', lr: 0.02 }, 0)).toBe(0.02);
  });

  it('rejects bad schedules naming the field', () => {
    const bad = (s: unknown, field: string) => {
      try {
        validateSchedule(s as LrSchedule);
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(TrainerError);
        expect((error as TrainerError).context.field).toBe(field);
      }
    };
    bad({ kind: 'cosine', peakLr: -1, warmupSteps: 1, totalSteps: 5 }, 'schedule.peakLr');
    bad({ kind: 'cosine', peakLr: 1, warmupSteps: 9, totalSteps: 5 }, 'schedule.warmupSteps');
    bad({ kind: 'linear', peakLr: 1, warmupSteps: 0, totalSteps: 5, minLr: 2 }, 'schedule.minLr');
    bad({ kind: 'step' }, 'schedule.kind');
  });
});
