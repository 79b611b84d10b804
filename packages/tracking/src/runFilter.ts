import { TrackingError } from './errors.js';
import type { Run } from './types.js';

/** One comparison of an MLflow search filter: `params.lr = '0.01'`, `metrics.loss < 0.5`. */
export interface FilterClause {
  entity: 'params' | 'tags' | 'metrics' | 'attributes';
  key: string;
  op: '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'ILIKE';
  value: string | number;
}

const ENTITY_ALIASES: Record<string, FilterClause['entity']> = {
  params: 'params',
  param: 'params',
  tags: 'tags',
  tag: 'tags',
  metrics: 'metrics',
  metric: 'metrics',
  attributes: 'attributes',
  attribute: 'attributes',
  attr: 'attributes',
  run: 'attributes',
};

const CLAUSE = /^\s*(\w+)\.(`[^`]+`|"[^"]+"|[\w.\-/:]+)\s*(=|!=|<=|>=|<|>|LIKE|ILIKE)\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:e-?\d+)?)\s*$/i;

/**
 * Parses the subset of MLflow's search grammar the local store needs: comparisons on
 * params, tags, metrics and attributes joined by AND (MLflow has no OR either).
 */
export function parseRunFilter(filter: string | undefined): FilterClause[] {
  if (filter === undefined || filter.trim() === '') return [];
  return filter.split(/\s+and\s+/i).map((part) => {
    const m = CLAUSE.exec(part);
    const entity = m ? ENTITY_ALIASES[m[1]!.toLowerCase()] : undefined;
    if (!m || !entity) {
      throw new TrackingError(`unsupported run filter clause '${part.trim()}' (expected e.g. params.lr = '0.01' or metrics.loss < 0.5)`, {
        code: 'INVALID_FILTER',
        context: { field: 'filter', error_code: 'INVALID_PARAMETER_VALUE' },
      });
    }
    const rawKey = m[2]!;
    const key = /^[`"]/.test(rawKey) ? rawKey.slice(1, -1) : rawKey;
    const rawValue = m[4]!;
    const value = /^['"]/.test(rawValue) ? rawValue.slice(1, -1).replace(/\\(.)/g, '$1') : Number(rawValue);
    return { entity, key, op: m[3]!.toUpperCase() as FilterClause['op'], value };
  });
}

function likeToRegExp(pattern: string, flags: string): RegExp {
  const body = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.');
  return new RegExp(`^${body}$`, flags);
}

function compare(actual: string | number | undefined, op: FilterClause['op'], expected: string | number): boolean {
  if (actual === undefined) return false;
  if (op === 'LIKE' || op === 'ILIKE') return likeToRegExp(String(expected), op === 'ILIKE' ? 'i' : '').test(String(actual));
  const a = typeof expected === 'number' ? Number(actual) : String(actual);
  switch (op) {
    case '=':
      return a === expected;
    case '!=':
      return a !== expected;
    case '<':
      return a < expected;
    case '<=':
      return a <= expected;
    case '>':
      return a > expected;
    default:
      return a >= expected;
  }
}

function attribute(run: Run, key: string): string | number | undefined {
  const info = run.info;
  const map: Record<string, string | number | null | undefined> = {
    run_id: info.runId,
    run_name: info.runName,
    status: info.status,
    start_time: info.startTime,
    end_time: info.endTime,
    user_id: info.userId,
    experiment_id: info.experimentId,
    artifact_uri: info.artifactUri,
  };
  const value = map[key];
  return value === null ? undefined : value;
}

/** True when the run satisfies every clause. */
export function matchesRunFilter(run: Run, clauses: FilterClause[]): boolean {
  return clauses.every((c) => {
    if (c.entity === 'params') return compare(run.data.params[c.key], c.op, c.value);
    if (c.entity === 'tags') return compare(run.data.tags[c.key], c.op, c.value);
    if (c.entity === 'metrics') return compare(run.data.metrics.find((m) => m.key === c.key)?.value, c.op, c.value);
    return compare(attribute(run, c.key), c.op, c.value);
  });
}
