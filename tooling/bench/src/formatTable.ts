import { type BenchRow, advantage } from './benchSuite.js';

/** Renders rows as an aligned text table with the ratio against the peer and the target. */
export function formatTable(suite: string, rows: BenchRow[]): string {
  const header = ['measure', 'ours', 'peer', 'ratio', 'target'];
  const body = rows.map((r) => {
    const ratio = advantage(r);
    const verdict = ratio === undefined || r.target === undefined ? '' : ratio >= r.target ? ' ok' : ' MISS';
    return [
      r.name,
      `${fmt(r.ours)} ${r.unit}`,
      r.peer === undefined ? '-' : `${fmt(r.peer)} ${r.unit} (${r.peerName ?? 'peer'})`,
      ratio === undefined ? '-' : `${ratio.toFixed(2)}×`,
      r.target === undefined ? '-' : `≥${r.target}×${verdict}`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  const notes = rows.filter((r) => r.note).map((r) => `  note (${r.name}): ${r.note}`);
  return [`## ${suite}`, line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line), ...notes, ''].join('\n');
}

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toPrecision(3);
}
