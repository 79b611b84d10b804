import { decodeDouble, decodeInt } from './encoding.js';
import type { DatasetInput, Experiment, Metric, ModelVersion, RegisteredModel, Run, RunInfo, RunStatus } from './types.js';

/** Converters between MLflow's proto3 JSON (snake_case) and our types. */
type Json = Record<string, any>;

export const pairsToRecord = (pairs: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  if (Array.isArray(pairs)) for (const p of pairs as Json[]) if (typeof p?.key === 'string') out[p.key] = String(p.value ?? '');
  return out;
};

export const recordToPairs = (record: Record<string, string>) => Object.entries(record).map(([key, value]) => ({ key, value }));

export function experimentFromWire(e: Json): Experiment {
  return {
    experimentId: String(e.experiment_id),
    name: String(e.name ?? ''),
    artifactLocation: String(e.artifact_location ?? ''),
    lifecycleStage: String(e.lifecycle_stage ?? 'active'),
    creationTime: e.creation_time === undefined ? undefined : decodeInt(e.creation_time),
    lastUpdateTime: e.last_update_time === undefined ? undefined : decodeInt(e.last_update_time),
    tags: pairsToRecord(e.tags),
  };
}

export function runInfoFromWire(i: Json): RunInfo {
  return {
    runId: String(i.run_id ?? i.run_uuid),
    runName: String(i.run_name ?? ''),
    experimentId: String(i.experiment_id),
    userId: String(i.user_id ?? ''),
    status: (i.status ?? 'RUNNING') as RunStatus,
    startTime: decodeInt(i.start_time),
    endTime: i.end_time === undefined || i.end_time === null ? null : decodeInt(i.end_time),
    artifactUri: String(i.artifact_uri ?? ''),
    lifecycleStage: String(i.lifecycle_stage ?? 'active'),
  };
}

export const metricFromWire = (m: Json): Metric => ({
  key: String(m.key),
  value: decodeDouble(m.value),
  timestamp: decodeInt(m.timestamp),
  step: decodeInt(m.step),
});

export function runFromWire(r: Json): Run {
  const data = r.data ?? {};
  const inputs: DatasetInput[] = (r.inputs?.dataset_inputs ?? []).map((d: Json) => ({
    tags: pairsToRecord(d.tags),
    dataset: {
      name: String(d.dataset?.name ?? ''),
      digest: String(d.dataset?.digest ?? ''),
      sourceType: String(d.dataset?.source_type ?? ''),
      source: String(d.dataset?.source ?? ''),
      schema: d.dataset?.schema,
      profile: d.dataset?.profile,
    },
  }));
  return {
    info: runInfoFromWire(r.info ?? {}),
    data: { metrics: (data.metrics ?? []).map(metricFromWire), params: pairsToRecord(data.params), tags: pairsToRecord(data.tags) },
    inputs,
  };
}

export const modelVersionFromWire = (v: Json): ModelVersion => ({
  name: String(v.name),
  version: String(v.version),
  source: String(v.source ?? ''),
  runId: v.run_id ? String(v.run_id) : undefined,
  status: String(v.status ?? 'READY'),
  creationTimestamp: v.creation_timestamp === undefined ? undefined : decodeInt(v.creation_timestamp),
  aliases: Array.isArray(v.aliases) ? v.aliases.map(String) : [],
});

export function registeredModelFromWire(m: Json): RegisteredModel {
  const aliases: Record<string, string> = {};
  for (const a of (m.aliases ?? []) as Json[]) aliases[String(a.alias)] = String(a.version);
  return {
    name: String(m.name),
    creationTimestamp: m.creation_timestamp === undefined ? undefined : decodeInt(m.creation_timestamp),
    lastUpdatedTimestamp: m.last_updated_timestamp === undefined ? undefined : decodeInt(m.last_updated_timestamp),
    description: m.description,
    aliases,
    tags: pairsToRecord(m.tags),
  };
}
