import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cleanArtifactPath, copyToLocalArtifacts, listLocalArtifacts } from './artifactPaths.js';
import { keyProblem, parsePythonFloat, pythonFloatRepr } from './encoding.js';
import { TrackingError } from './errors.js';
import { FileModelRegistry } from './fileModelRegistry.js';
import { LIMITS } from './limits.js';
import { readMlflowYaml, writeMlflowYaml } from './mlflowYaml.js';
import { matchesRunFilter, parseRunFilter } from './runFilter.js';
import type { CreateRunOptions, SearchRunsOptions, TrackingStore } from './store.js';
import {
  type ArtifactFile,
  type Dataset,
  type DatasetInput,
  type Experiment,
  type LogBatch,
  type Metric,
  type ModelVersion,
  RUN_STATUS_CODES,
  type RegisteredModel,
  type Run,
  type RunInfo,
  type RunStatus,
} from './types.js';

const STATUS_BY_CODE = Object.fromEntries(Object.entries(RUN_STATUS_CODES).map(([name, code]) => [code, name])) as Record<number, RunStatus>;
/** Folders of an experiment directory that are not runs. */
const RESERVED_EXPERIMENT_DIRS = new Set(['tags', 'datasets', 'traces']);
const md5 = (...parts: string[]) => {
  const hash = createHash('md5');
  for (const p of parts) hash.update(p, 'utf8');
  return hash.digest('hex');
};

function notFound(what: string): TrackingError {
  return new TrackingError(`${what} not found`, { code: 'NOT_FOUND', context: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });
}

/** Reads every file under `dir` as key → content (keys with '/' are sub-directories). */
async function readKeyFiles(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (sub: string, prefix: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(sub, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.isDirectory()) await walk(join(sub, entry.name), `${prefix}${entry.name}/`);
      else if (!entry.name.startsWith('.')) out.set(`${prefix}${entry.name}`, await readFile(join(sub, entry.name), 'utf8'));
    }
  };
  await walk(dir, '');
  return out;
}

function parseMetricLines(key: string, text: string, file: string): Metric[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, index) => {
      const parts = line.trim().split(' ');
      if (parts.length !== 2 && parts.length !== 3 && parts.length !== 5) {
        throw new TrackingError(`${file}:${index + 1}: expected '<timestamp> <value> <step>', got '${line}'`, { code: 'MALFORMED_STORE', context: { file, line: index + 1 } });
      }
      return { key, timestamp: Number(parts[0]), value: parsePythonFloat(parts[1]!), step: parts.length >= 3 ? Number(parts[2]) : 0 };
    });
}

/**
 * MLflow's `mlruns` FileStore layout, written exactly as MLflow writes it (see mlflow.md §2),
 * so `MLFLOW_ALLOW_FILE_STORE=true mlflow ui --backend-store-uri ./mlruns` reads it.
 */
export class FileStore implements TrackingStore {
  readonly kind = 'file' as const;
  readonly uri: string;
  readonly root: string;
  private readonly registry: FileModelRegistry;
  private readonly runDirs = new Map<string, { experimentId: string; dir: string }>();
  private ready?: Promise<void>;

  constructor(options: { root: string }) {
    this.root = resolve(options.root.startsWith('file:') ? fileURLToPath(options.root) : options.root);
    this.uri = this.root;
    this.registry = new FileModelRegistry(join(this.root, 'models'));
  }

  close(): void {}

  /** Creates the root with MLflow's Default experiment (id 0) and .trash, as FileStore does. */
  private ensureRoot(): Promise<void> {
    this.ready ??= (async () => {
      if (!existsSync(this.root)) {
        await mkdir(this.root, { recursive: true });
        await this.writeExperiment('0', 'Default', {});
      }
      await mkdir(join(this.root, '.trash'), { recursive: true });
    })();
    return this.ready;
  }

  private async writeExperiment(id: string, name: string, tags: Record<string, string>): Promise<void> {
    const now = Date.now();
    await writeMlflowYaml(join(this.root, id, 'meta.yaml'), {
      artifact_location: pathToFileURL(join(this.root, id)).href,
      creation_time: now,
      experiment_id: id,
      last_update_time: now,
      lifecycle_stage: 'active',
      name,
    });
    for (const [key, value] of Object.entries(tags)) await this.writeKeyFile(join(this.root, id, 'tags'), key, value);
  }

  private async writeKeyFile(dir: string, key: string, value: string): Promise<void> {
    const problem = keyProblem(key);
    if (problem) throw new TrackingError(`invalid key '${key}': ${problem}`, { code: 'INVALID_KEY', context: { keys: [key], error_code: 'INVALID_PARAMETER_VALUE' } });
    const file = join(dir, ...key.split('/'));
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(file, value);
  }

  private async experimentIds(): Promise<string[]> {
    await this.ensureRoot();
    const entries = await readdir(this.root, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory() && /^\d+$/.test(e.name) && existsSync(join(this.root, e.name, 'meta.yaml'))).map((e) => e.name);
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    await this.ensureRoot();
    const dir = join(this.root, experimentId);
    if (!/^\d+$/.test(experimentId) || !existsSync(join(dir, 'meta.yaml'))) throw notFound(`experiment ${experimentId}`);
    const meta = await readMlflowYaml(join(dir, 'meta.yaml'));
    return {
      experimentId: String(meta.experiment_id),
      name: String(meta.name),
      artifactLocation: String(meta.artifact_location),
      lifecycleStage: String(meta.lifecycle_stage ?? 'active'),
      creationTime: meta.creation_time ?? undefined,
      lastUpdateTime: meta.last_update_time ?? undefined,
      tags: Object.fromEntries(await readKeyFiles(join(dir, 'tags'))),
    };
  }

  async searchExperiments(options: { maxResults?: number } = {}): Promise<Experiment[]> {
    const all = await Promise.all((await this.experimentIds()).map((id) => this.getExperiment(id)));
    const active = all.filter((e) => e.lifecycleStage === 'active');
    active.sort((a, b) => (b.creationTime ?? 0) - (a.creationTime ?? 0) || a.experimentId.localeCompare(b.experimentId));
    return active.slice(0, options.maxResults ?? active.length);
  }

  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    return (await this.searchExperiments()).find((e) => e.name === name);
  }

  async createExperiment(name: string, tags: Record<string, string> = {}): Promise<string> {
    if (name.trim() === '' || name.length > LIMITS.experimentName) {
      throw new TrackingError(`experiment name must be 1-${LIMITS.experimentName} characters`, { code: 'INVALID_VALUE', context: { field: 'name', error_code: 'INVALID_PARAMETER_VALUE' } });
    }
    if (await this.getExperimentByName(name)) {
      throw new TrackingError(`Experiment '${name}' already exists.`, { code: 'ALREADY_EXISTS', context: { field: 'name', error_code: 'RESOURCE_ALREADY_EXISTS' } });
    }
    let id: string;
    // MLflow's FileStore uses random 18-digit ids (_generate_unique_integer_id).
    do id = (BigInt(`0x${randomBytes(8).toString('hex')}`) % 900_000_000_000_000_000n + 100_000_000_000_000_000n).toString();
    while (existsSync(join(this.root, id)));
    await this.writeExperiment(id, name, tags);
    return id;
  }

  private async findRun(runId: string): Promise<{ experimentId: string; dir: string }> {
    const cached = this.runDirs.get(runId);
    if (cached) return cached;
    if (!/^[a-zA-Z0-9][\w-]{0,255}$/.test(runId)) throw notFound(`run '${runId}'`);
    for (const experimentId of await this.experimentIds()) {
      const dir = join(this.root, experimentId, runId);
      if (existsSync(join(dir, 'meta.yaml'))) {
        const found = { experimentId, dir };
        this.runDirs.set(runId, found);
        return found;
      }
    }
    throw notFound(`run '${runId}'`);
  }

  private runMeta(info: RunInfo): Record<string, unknown> {
    return {
      artifact_uri: info.artifactUri,
      end_time: info.endTime,
      entry_point_name: '',
      experiment_id: info.experimentId,
      lifecycle_stage: info.lifecycleStage,
      run_id: info.runId,
      run_name: info.runName,
      source_name: '',
      source_type: 4,
      source_version: '',
      start_time: info.startTime,
      status: RUN_STATUS_CODES[info.status],
      tags: [],
      user_id: info.userId,
    };
  }

  async createRun(options: CreateRunOptions): Promise<RunInfo> {
    const experiment = await this.getExperiment(options.experimentId);
    const runId = randomUUID().replace(/-/g, '');
    const runName = options.runName || options.tags['mlflow.runName'] || runId.slice(0, 8);
    const info: RunInfo = {
      runId,
      runName,
      experimentId: options.experimentId,
      userId: options.userId,
      status: 'RUNNING',
      startTime: options.startTime,
      endTime: null,
      artifactUri: `${experiment.artifactLocation.replace(/\/+$/, '')}/${runId}/artifacts`,
      lifecycleStage: 'active',
    };
    const dir = join(this.root, options.experimentId, runId);
    await writeMlflowYaml(join(dir, 'meta.yaml'), this.runMeta(info));
    for (const sub of ['metrics', 'params', 'artifacts', 'tags']) await mkdir(join(dir, sub), { recursive: true });
    this.runDirs.set(runId, { experimentId: options.experimentId, dir });
    // MLflow always writes the run name as both the meta field and the mlflow.runName tag.
    for (const [key, value] of Object.entries({ ...options.tags, 'mlflow.runName': runName })) await this.writeKeyFile(join(dir, 'tags'), key, value);
    return info;
  }

  private async readRunInfo(dir: string): Promise<RunInfo> {
    const meta = await readMlflowYaml(join(dir, 'meta.yaml'));
    const status = typeof meta.status === 'number' ? STATUS_BY_CODE[meta.status] : (meta.status as RunStatus);
    return {
      runId: String(meta.run_id ?? meta.run_uuid),
      runName: String(meta.run_name ?? ''),
      experimentId: String(meta.experiment_id),
      userId: String(meta.user_id ?? ''),
      status: status ?? 'RUNNING',
      startTime: Number(meta.start_time ?? 0),
      endTime: meta.end_time === null || meta.end_time === undefined ? null : Number(meta.end_time),
      artifactUri: String(meta.artifact_uri ?? ''),
      lifecycleStage: String(meta.lifecycle_stage ?? 'active'),
    };
  }

  async updateRun(runId: string, status: RunStatus, endTime: number | null): Promise<void> {
    const { dir } = await this.findRun(runId);
    const info = await this.readRunInfo(dir);
    await writeMlflowYaml(join(dir, 'meta.yaml'), this.runMeta({ ...info, status, endTime }));
  }

  async getRun(runId: string): Promise<Run> {
    const { dir } = await this.findRun(runId);
    return this.readRun(dir);
  }

  private async readRun(dir: string): Promise<Run> {
    const info = await this.readRunInfo(dir);
    const metrics: Metric[] = [];
    for (const [key, text] of await readKeyFiles(join(dir, 'metrics'))) {
      const points = parseMetricLines(key, text, join(dir, 'metrics', key));
      // MLflow's "latest" value: largest (step, timestamp, value).
      const latest = points.reduce((a, b) => (b.step > a.step || (b.step === a.step && (b.timestamp > a.timestamp || (b.timestamp === a.timestamp && b.value > a.value))) ? b : a));
      if (latest) metrics.push(latest);
    }
    const params = Object.fromEntries(await readKeyFiles(join(dir, 'params')));
    const tags = Object.fromEntries(await readKeyFiles(join(dir, 'tags')));
    return { info, data: { metrics, params, tags }, inputs: await this.readInputs(dir, info) };
  }

  private async readInputs(dir: string, info: RunInfo): Promise<DatasetInput[]> {
    const inputsDir = join(dir, 'inputs');
    if (!existsSync(inputsDir)) return [];
    const out: DatasetInput[] = [];
    for (const entry of await readdir(inputsDir)) {
      const input = await readMlflowYaml(join(inputsDir, entry, 'meta.yaml'));
      const datasetFile = join(this.root, info.experimentId, 'datasets', String(input.source_id), 'meta.yaml');
      if (!existsSync(datasetFile)) continue;
      const d = await readMlflowYaml(datasetFile);
      out.push({
        tags: Object.fromEntries(Object.entries(input.tags ?? {}).map(([k, v]) => [k, String(v)])),
        dataset: { name: d.name, digest: d.digest, sourceType: d.source_type, source: d.source, schema: d.schema ?? undefined, profile: d.profile ?? undefined },
      });
    }
    return out;
  }

  async searchRuns(options: SearchRunsOptions): Promise<Run[]> {
    const clauses = parseRunFilter(options.filter);
    const runs: Run[] = [];
    for (const experimentId of options.experimentIds) {
      const expDir = join(this.root, experimentId);
      if (!existsSync(expDir)) continue;
      for (const entry of await readdir(expDir, { withFileTypes: true })) {
        if (!entry.isDirectory() || RESERVED_EXPERIMENT_DIRS.has(entry.name) || !existsSync(join(expDir, entry.name, 'meta.yaml'))) continue;
        const run = await this.readRun(join(expDir, entry.name));
        if (run.info.lifecycleStage === 'active' && matchesRunFilter(run, clauses)) runs.push(run);
      }
    }
    runs.sort((a, b) => b.info.startTime - a.info.startTime || a.info.runId.localeCompare(b.info.runId));
    return runs.slice(0, options.maxResults ?? 1000);
  }

  async logBatch(runId: string, batch: LogBatch): Promise<void> {
    const { dir } = await this.findRun(runId);
    for (const [key, value] of Object.entries(batch.params)) {
      const file = join(dir, 'params', ...key.split('/'));
      if (existsSync(file)) {
        const current = await readFile(file, 'utf8');
        if (current !== value) {
          throw new TrackingError(`Changing param values is not allowed. Param with key='${key}' was already logged with value='${current}' for run ID='${runId}'. Attempted logging new value '${value}'.`, {
            code: 'PARAM_CHANGED',
            context: { keys: [key], error_code: 'INVALID_PARAMETER_VALUE' },
          });
        }
        continue;
      }
      await this.writeKeyFile(join(dir, 'params'), key, value);
    }
    const byKey = new Map<string, string[]>();
    for (const m of batch.metrics) {
      const lines = byKey.get(m.key) ?? [];
      lines.push(`${m.timestamp} ${pythonFloatRepr(m.value)} ${m.step}\n`);
      byKey.set(m.key, lines);
    }
    for (const [key, lines] of byKey) {
      const problem = keyProblem(key);
      if (problem) throw new TrackingError(`invalid metric key '${key}': ${problem}`, { code: 'INVALID_KEY', context: { keys: [key], error_code: 'INVALID_PARAMETER_VALUE' } });
      const file = join(dir, 'metrics', ...key.split('/'));
      await mkdir(join(file, '..'), { recursive: true });
      await appendFile(file, lines.join(''));
    }
    for (const [key, value] of Object.entries(batch.tags)) {
      await this.writeKeyFile(join(dir, 'tags'), key, value);
      if (key === 'mlflow.runName') {
        const info = await this.readRunInfo(dir);
        await writeMlflowYaml(join(dir, 'meta.yaml'), this.runMeta({ ...info, runName: value }));
      }
    }
  }

  async logInputs(runId: string, datasets: { dataset: Dataset; tags: Record<string, string> }[]): Promise<void> {
    const { experimentId, dir } = await this.findRun(runId);
    for (const { dataset, tags } of datasets) {
      const datasetId = md5(dataset.name, dataset.digest);
      const datasetDir = join(this.root, experimentId, 'datasets', datasetId);
      if (!existsSync(join(datasetDir, 'meta.yaml'))) {
        await writeMlflowYaml(join(datasetDir, 'meta.yaml'), {
          digest: dataset.digest,
          name: dataset.name,
          profile: dataset.profile ?? null,
          schema: dataset.schema ?? null,
          source: dataset.source,
          source_type: dataset.sourceType,
        });
      }
      const inputDir = join(dir, 'inputs', md5(datasetId, runId));
      if (!existsSync(join(inputDir, 'meta.yaml'))) {
        await writeMlflowYaml(join(inputDir, 'meta.yaml'), { destination_id: runId, destination_type: 'RUN', source_id: datasetId, source_type: 'DATASET', tags });
      }
    }
  }

  async getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    const { dir } = await this.findRun(runId);
    const file = join(dir, 'metrics', ...key.split('/'));
    if (!existsSync(file)) return [];
    return parseMetricLines(key, await readFile(file, 'utf8'), file);
  }

  private artifactDir(run: RunInfo): string {
    if (!run.artifactUri.startsWith('file:')) {
      throw new TrackingError(`run ${run.runId} has a non-local artifact URI '${run.artifactUri}'`, { code: 'UNSUPPORTED_ARTIFACT_URI', context: { field: 'artifact_uri' } });
    }
    return fileURLToPath(run.artifactUri);
  }

  async logArtifact(run: RunInfo, localPath: string, artifactPath?: string): Promise<void> {
    await copyToLocalArtifacts(this.artifactDir(run), localPath, cleanArtifactPath(artifactPath));
  }

  async listArtifacts(run: RunInfo, path?: string): Promise<ArtifactFile[]> {
    return listLocalArtifacts(this.artifactDir(run), cleanArtifactPath(path, 'path'));
  }

  async downloadArtifact(run: RunInfo, path: string, destination: string): Promise<void> {
    const rel = cleanArtifactPath(path, 'path');
    const { cp } = await import('node:fs/promises');
    const source = join(this.artifactDir(run), ...rel.split('/'));
    if (!existsSync(source)) throw notFound(`artifact '${path}'`);
    await mkdir(join(destination, '..'), { recursive: true });
    await cp(source, destination, { recursive: true });
  }

  async createRegisteredModel(name: string): Promise<RegisteredModel> {
    await this.ensureRoot();
    return this.registry.createRegisteredModel(name);
  }

  getRegisteredModel(name: string): Promise<RegisteredModel> {
    return this.registry.getRegisteredModel(name);
  }

  createModelVersion(options: { name: string; source: string; runId?: string }): Promise<ModelVersion> {
    return this.registry.createModelVersion(options);
  }

  getModelVersion(name: string, version: string): Promise<ModelVersion> {
    return this.registry.getModelVersion(name, version);
  }

  setAlias(name: string, alias: string, version: string): Promise<void> {
    return this.registry.setAlias(name, alias, version);
  }

  getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    return this.registry.getModelVersionByAlias(name, alias);
  }

  deleteAlias(name: string, alias: string): Promise<void> {
    return this.registry.deleteAlias(name, alias);
  }
}
