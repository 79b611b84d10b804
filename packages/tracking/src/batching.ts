import { encodeDouble } from './encoding.js';
import { LIMITS } from './limits.js';
import type { LogBatch, Metric } from './types.js';

/** Limits one log-batch request must respect (defaults: MLflow's server limits). */
export interface BatchLimits {
  metrics: number;
  params: number;
  tags: number;
  total: number;
  bytes: number;
}

export const DEFAULT_BATCH_LIMITS: BatchLimits = {
  metrics: LIMITS.batchMetrics,
  params: LIMITS.batchParams,
  tags: LIMITS.batchTags,
  total: LIMITS.batchTotal,
  bytes: LIMITS.batchBytes,
};

function metricBytes(m: Metric): number {
  return JSON.stringify({ key: m.key, value: encodeDouble(m.value), timestamp: m.timestamp, step: m.step }).length + 1;
}

function pairBytes(key: string, value: string): number {
  return JSON.stringify({ key, value }).length + 1;
}

/**
 * Splits one logical batch into requests within the server's limits: at most 1000 metrics,
 * 100 params, 100 tags, 1000 entities and ~1 MB of JSON each. Params go first so a run's
 * configuration lands before its metrics; order within each kind is kept.
 */
export function splitBatch(batch: LogBatch, limits: BatchLimits = DEFAULT_BATCH_LIMITS): LogBatch[] {
  const out: LogBatch[] = [];
  let current: LogBatch = { metrics: [], params: {}, tags: {} };
  let counts = { metrics: 0, params: 0, tags: 0, bytes: 64 };
  const flush = () => {
    if (counts.metrics + counts.params + counts.tags > 0) out.push(current);
    current = { metrics: [], params: {}, tags: {} };
    counts = { metrics: 0, params: 0, tags: 0, bytes: 64 };
  };
  const fits = (kind: 'metrics' | 'params' | 'tags', bytes: number) =>
    counts[kind] < limits[kind] && counts.metrics + counts.params + counts.tags < limits.total && counts.bytes + bytes <= limits.bytes;
  for (const [key, value] of Object.entries(batch.params)) {
    const bytes = pairBytes(key, value);
    if (!fits('params', bytes)) flush();
    current.params[key] = value;
    counts.params++;
    counts.bytes += bytes;
  }
  for (const [key, value] of Object.entries(batch.tags)) {
    const bytes = pairBytes(key, value);
    if (!fits('tags', bytes)) flush();
    current.tags[key] = value;
    counts.tags++;
    counts.bytes += bytes;
  }
  for (const metric of batch.metrics) {
    const bytes = metricBytes(metric);
    if (!fits('metrics', bytes)) flush();
    current.metrics.push(metric);
    counts.metrics++;
    counts.bytes += bytes;
  }
  flush();
  return out;
}
