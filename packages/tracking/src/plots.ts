import { TrackingError } from './errors.js';

/** One line of a chart. Non-finite points are left out (they cannot be drawn). */
export interface ChartSeries {
  name: string;
  points: { step: number; value: number }[];
}

export interface LineChartOptions {
  series: ChartSeries[];
  title?: string;
  xTitle?: string;
  yTitle?: string;
  /** Log-scale y axis (loss curves spanning decades). */
  logScale?: boolean;
  width?: number;
  height?: number;
}

export interface HeatmapOptions {
  /** values[row][column], e.g. tokens routed per (layer, expert). */
  values: number[][];
  title?: string;
  rowTitle?: string;
  columnTitle?: string;
  valueTitle?: string;
  width?: number;
  height?: number;
}

type VegaLiteSpec = Record<string, unknown>;

/** Compiles a Vega-Lite spec and renders it headless to SVG (vega's SVG renderer, no canvas). */
export async function renderVegaLiteSvg(spec: VegaLiteSpec): Promise<string> {
  // Loaded lazily: charting is only needed when a plot is made.
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vegaLite.compile(spec as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterises SVG to PNG with resvg (prebuilt native package, system fonts). */
export async function svgToPng(svg: string, options: { scale?: number } = {}): Promise<Buffer> {
  const { Resvg } = await import('@resvg/resvg-js');
  const scale = options.scale ?? 2;
  const renderer = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return Buffer.from(renderer.render().asPng());
}

/** A line chart of metric curves (loss, learning rate…) as SVG. */
export async function lineChartSvg(options: LineChartOptions): Promise<string> {
  const values = options.series.flatMap((s) =>
    s.points.filter((p) => Number.isFinite(p.value) && (!options.logScale || p.value > 0)).map((p) => ({ series: s.name, step: p.step, value: p.value })),
  );
  if (values.length === 0) {
    throw new TrackingError(`nothing to plot${options.title ? ` for '${options.title}'` : ''}: no finite points`, { code: 'EMPTY_PLOT', context: { keys: options.series.map((s) => s.name) } });
  }
  return renderVegaLiteSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: options.title,
    width: options.width ?? 640,
    height: options.height ?? 320,
    background: 'white',
    data: { values },
    mark: { type: 'line', point: values.length <= 60 },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: options.xTitle ?? 'step' },
      y: { field: 'value', type: 'quantitative', title: options.yTitle ?? 'value', scale: options.logScale ? { type: 'log' } : { zero: false } },
      color: { field: 'series', type: 'nominal', title: null },
    },
  });
}

/** A heatmap (e.g. expert load per layer) as SVG. */
export async function heatmapSvg(options: HeatmapOptions): Promise<string> {
  const rows = options.values.length;
  const columns = options.values[0]?.length ?? 0;
  if (rows === 0 || columns === 0 || options.values.some((r) => r.length !== columns)) {
    throw new TrackingError(`heatmap values must be a non-empty rectangular matrix (got ${rows} rows of lengths ${[...new Set(options.values.map((r) => r.length))].join('/')})`, {
      code: 'INVALID_VALUE',
      context: { field: 'values' },
    });
  }
  const rowTitle = options.rowTitle ?? 'layer';
  const columnTitle = options.columnTitle ?? 'expert';
  const values = options.values.flatMap((r, i) => r.map((v, j) => ({ row: i, column: j, value: Number.isFinite(v) ? v : null })));
  return renderVegaLiteSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: options.title,
    width: options.width ?? Math.min(900, Math.max(240, columns * 18)),
    height: options.height ?? Math.min(600, Math.max(120, rows * 24)),
    background: 'white',
    data: { values },
    mark: 'rect',
    encoding: {
      x: { field: 'column', type: 'ordinal', title: columnTitle },
      y: { field: 'row', type: 'ordinal', title: rowTitle },
      color: { field: 'value', type: 'quantitative', title: options.valueTitle ?? 'load', scale: { scheme: 'viridis' } },
    },
  });
}
