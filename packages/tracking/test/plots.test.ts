import { describe, expect, it } from 'vitest';
import { TrackingError } from '../src/errors.js';
import { heatmapSvg, lineChartSvg, svgToPng } from '../src/plots.js';

/** PNG width/height from the IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe('plots', () => {
  it('draws loss/lr curves as SVG with one line per series, skipping non-finite points, and rasterises to PNG', async () => {
    const points = (n: number, f: (s: number) => number) => Array.from({ length: n }, (_, s) => ({ step: s, value: f(s) }));
    const svg = await lineChartSvg({
      title: 'training loss',
      series: [
        { name: 'train/loss', points: [...points(80, (s) => 4 * Math.exp(-s / 20)), { step: 80, value: Number.NaN }] },
        { name: 'val/loss', points: points(80, (s) => 4.2 * Math.exp(-s / 20)) },
      ],
      width: 400,
      height: 200,
    });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('training loss');
    expect(svg).toContain('train/loss');
    // vega draws each series as its own line mark group holding one path.
    const lines = [...svg.matchAll(/<g class="mark-line role-mark[^"]*"[^>]*>(.*?)<\/g>/gs)].map((m) => m[1]!);
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line.match(/<path/g)).toHaveLength(1);
    expect(svg).not.toContain('NaN');
    const width = Number(/<svg[^>]*width="(\d+)"/.exec(svg)![1]);
    const png = await svgToPng(svg, { scale: 2 });
    expect(pngSize(png).width).toBe(width * 2);
  });

  it('draws an expert-load heatmap with one cell per (layer, expert)', async () => {
    const load = [
      [10, 0, 5],
      [1, 2, 3],
    ];
    const svg = await heatmapSvg({ values: load, title: 'expert load' });
    const rectGroup = /<g class="mark-rect role-mark[^"]*"[^>]*>(.*?)<\/g>/s.exec(svg)?.[1] ?? '';
    expect(rectGroup.match(/<path/g)).toHaveLength(6);
    const fills = [...rectGroup.matchAll(/fill="([^"]+)"/g)].map((m) => m[1]);
    // The largest and smallest loads get the two ends of the colour scale: different colours.
    expect(new Set(fills).size).toBeGreaterThan(2);
    expect(pngSize(await svgToPng(svg)).height).toBeGreaterThan(100);
  });

  it('rejects empty or ragged data with a TrackingError', async () => {
    await expect(lineChartSvg({ series: [{ name: 'loss', points: [{ step: 0, value: Number.NaN }] }] })).rejects.toBeInstanceOf(TrackingError);
    await expect(heatmapSvg({ values: [[1, 2], [3]] })).rejects.toThrow(/rectangular/);
    await expect(heatmapSvg({ values: [] })).rejects.toThrow(/non-empty/);
  });
});
