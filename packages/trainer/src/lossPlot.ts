/** One line of a plot: (step, value) points. */
export interface PlotSeries {
  name: string;
  points: [number, number][];
  color?: string;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

/**
 * A self-contained SVG line chart of loss curves (train / validation), logged as a
 * tracker artifact. Non-finite points are left out.
 */
export function lossPlotSvg(options: {
  title: string;
  series: PlotSeries[];
  width?: number;
  height?: number;
}): string {
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const pad = { left: 56, right: 16, top: 32, bottom: 36 };
  const series = options.series.map((s) => ({
    ...s,
    points: s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)),
  }));
  const all = series.flatMap((s) => s.points);
  const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const head = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`;
  const title = `<text x="${width / 2}" y="18" text-anchor="middle" font-size="13">${esc(options.title)}</text>`;
  if (all.length === 0)
    return `${head}${title}<text x="${width / 2}" y="${height / 2}" text-anchor="middle">no data</text></svg>\n`;
  const [x0, x1] = extent(all.map((p) => p[0]));
  const [y0, y1] = extent(all.map((p) => p[1]));
  const sx = (x: number) => pad.left + ((x - x0) / (x1 - x0)) * (width - pad.left - pad.right);
  const sy = (y: number) =>
    height - pad.bottom - ((y - y0) / (y1 - y0)) * (height - pad.top - pad.bottom);
  const axes = [
    `<line x1="${pad.left}" y1="${height - pad.bottom}" x2="${width - pad.right}" y2="${height - pad.bottom}" stroke="#444"/>`,
    `<line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${height - pad.bottom}" stroke="#444"/>`,
    `<text x="${pad.left}" y="${height - 12}">${fmt(x0)}</text>`,
    `<text x="${width - pad.right}" y="${height - 12}" text-anchor="end">${fmt(x1)} (step)</text>`,
    `<text x="${pad.left - 4}" y="${sy(y1) + 4}" text-anchor="end">${fmt(y1)}</text>`,
    `<text x="${pad.left - 4}" y="${sy(y0)}" text-anchor="end">${fmt(y0)}</text>`,
  ];
  const lines = series.map((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const d = s.points
      .map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
      .join(' ');
    const legend = `<text x="${width - pad.right - 4}" y="${pad.top + 14 * (i + 1)}" text-anchor="end" fill="${color}">${esc(s.name)}</text>`;
    return `<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"/>${legend}`;
  });
  return `${head}${title}${axes.join('')}${lines.join('')}</svg>\n`;
}

function extent(values: number[]): [number, number] {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  return [lo, hi];
}

function fmt(v: number): string {
  return Math.abs(v) >= 1000 || Number.isInteger(v) ? String(Math.round(v)) : v.toPrecision(3);
}
