import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ProgressReporter, formatDuration } from './progress.js';

function capture() {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c) => chunks.push(String(c)));
  return { stream, chunks };
}

describe('ProgressReporter', () => {
  it('writes JSON lines with rate and ETA from the clock', () => {
    const { stream, chunks } = capture();
    let t = 0;
    const progress = new ProgressReporter({ label: 'train', total: 100, stream, mode: 'json', throttleMs: 0, now: () => t });
    t = 2000;
    progress.update(25, { loss: 2.5 });
    const line = JSON.parse(chunks[0]!);
    expect(line).toMatchObject({ progress: 'train', final: false, current: 25, total: 100, fraction: 0.25, rate: 12.5, etaSeconds: 6 });
    expect(line.fields).toEqual({ loss: 2.5 });
    progress.finish();
    expect(JSON.parse(chunks[1]!).final).toBe(true);
  });

  it('draws a bar on a TTY-style stream and throttles redraws', () => {
    const { stream, chunks } = capture();
    let t = 0;
    const progress = new ProgressReporter({ label: 'x', total: 4, stream, mode: 'bar', throttleMs: 1000, now: () => t });
    t = 1000;
    progress.tick(2);
    t = 1500;
    progress.tick(1); // throttled
    expect(chunks).toHaveLength(1);
    expect(chunks[0]).toMatch(/^\rx \[#{12}-{12}\] 2\/4/);
    expect(formatDuration(3725)).toBe('1h02m');
    expect(formatDuration(65)).toBe('1m05s');
  });
});
