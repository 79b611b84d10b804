/**
 * A strict reader of the Prometheus text exposition format (0.0.4), for tests: every line
 * must be a HELP/TYPE comment or a well-formed sample whose family was declared.
 */
export function parsePrometheusText(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
  const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)( -?\d+)?$/;
  text.split('\n').forEach((line, i) => {
    if (line === '') return;
    const fail = (why: string) => {
      throw new Error(`metrics line ${i + 1} ${why}: ${line}`);
    };
    if (line.startsWith('# HELP ')) {
      if (!metricName.test(line.slice(7).split(' ')[0]!)) fail('has a bad metric name');
      return;
    }
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ');
      if (!metricName.test(name!) || !['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type!)) fail('is a bad TYPE line');
      types.set(name!, type!);
      return;
    }
    if (line.startsWith('#')) return;
    const m = sampleLine.exec(line);
    if (!m) fail('is not a valid sample');
    const name = m![1]!;
    const family = [name, name.replace(/_(bucket|sum|count|total|created)$/, '')].find((n) => types.has(n));
    if (!family) fail('belongs to no declared family');
    if (/_bucket$/.test(name) && !/le="/.test(m![2] ?? '')) fail('is a bucket without le');
    samples.set(name + (m![2] ?? ''), Number(m![3]));
  });
  return samples;
}
