import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, posix } from 'node:path';
import type { Tracker } from '@deepline/core';
import { stringifyParams, validateKeys, validateMetric, validateValueLengths } from './encoding.js';
import type { RetryOptions } from './env.js';
import { TrackingError } from './errors.js';
import { LIMITS } from './limits.js';
import { openStore } from './openStore.js';
import { heatmapSvg, lineChartSvg, svgToPng } from './plots.js';
import { RunLogger, type RunLoggerStats } from './runLogger.js';
import { unwatchSignals, watchSignals } from './signals.js';
import { currentUser, sourceTags } from './sourceTags.js';
import type { TrackingStore } from './store.js';
import type { ArtifactFile, Dataset, Metric, RunInfo, RunStatus } from './types.js';

/** Options of createTracker. Every field is optional. */
export interface CreateTrackerOptions {
  /** Tracking URI: `http(s)://…` (MLflow server) or a directory (local mlruns). Default MLFLOW_TRACKING_URI, else ./mlruns. */
  uri?: string;
  /** Experiment to log into, created when missing. Default MLFLOW_EXPERIMENT_NAME, else 'Default'. */
  experimentName?: string;
  /** Run name (tag mlflow.runName). Default: a generated one. */
  runName?: string;
  /** Makes this a nested run of that run (tag mlflow.parentRunId). */
  parentRunId?: string;
  /** Extra run tags. */
  tags?: Record<string, string>;
  /** Run description (tag mlflow.note.content). */
  description?: string;
  /** An already-open store (shared by child runs); `uri`/`env`/`retry` are then ignored. */
  store?: TrackingStore;
  /** Environment for MLFLOW_* settings (default process.env). */
  env?: Record<string, string | undefined>;
  /** Overrides of the MLFLOW_HTTP_* retry settings (tests use short backoffs). */
  retry?: Partial<RetryOptions>;
  /** Background send interval (ms). Default 1000. */
  flushIntervalMs?: number;
  /** Metric points kept in memory during an outage before spilling to disk. Default 100 000. */
  maxBufferedMetrics?: number;
  /** Where spilled points go. Default `<tmpdir>/deepline-tracking/<runId>`. */
  spillDir?: string;
  /** First/max wait between send attempts while the server is down (ms). Defaults 1000 / 30 000. */
  outageBackoffMs?: number;
  maxOutageBackoffMs?: number;
  /** How long end() keeps trying to deliver (ms). Default 60 000. */
  endTimeoutMs?: number;
  /** Mark the run KILLED on SIGINT/SIGTERM. Default true. */
  handleSignals?: boolean;
  /** Data the server refused for good (e.g. a changed param value) is reported here; default: a warning on stderr. */
  onError?: (error: TrackingError) => void;
}

/** What end() reports. */
export interface EndReport {
  status: RunStatus;
  /** Entities not delivered (0 unless the server stayed down past endTimeoutMs). */
  pending: number;
  /** Where undelivered data waits for replaySpill, when pending > 0. */
  spillDir?: string;
  stats: RunLoggerStats;
}

/** A dataset to record as a run input (MLflow ≥ 2.4 `log-inputs`). */
export interface DatasetOptions extends Dataset {
  /** `mlflow.data.context` tag: 'training', 'validation', 'evaluation'… Default 'training'. */
  context?: string;
}

function defaultOnError(error: TrackingError): void {
  process.stderr.write(`deepline tracking: ${error.message}\n`);
}

/**
 * One MLflow run. Implements core's Tracker (logParams, logMetrics, setTags, logArtifact,
 * registerModel); logging calls return at once and data goes out in the background.
 */
export class MlflowTracker implements Tracker {
  readonly store: TrackingStore;
  readonly info: RunInfo;
  private readonly logger: RunLogger;
  private readonly params = new Map<string, string>();
  /** Metric keys already validated: the hot path skips the regex for them. */
  private readonly metricKeys = new Set<string>();
  private readonly options: CreateTrackerOptions;
  private ended?: Promise<EndReport>;

  /** Use createTracker(); this wires an existing run. */
  constructor(store: TrackingStore, info: RunInfo, options: CreateTrackerOptions) {
    this.store = store;
    this.info = info;
    this.options = options;
    this.logger = new RunLogger({
      store,
      runId: info.runId,
      flushIntervalMs: options.flushIntervalMs,
      maxBufferedMetrics: options.maxBufferedMetrics,
      spillDir: options.spillDir ?? join(tmpdir(), 'deepline-tracking', info.runId),
      outageBackoffMs: options.outageBackoffMs,
      maxOutageBackoffMs: options.maxOutageBackoffMs,
      onError: options.onError ?? defaultOnError,
    });
    if (options.handleSignals !== false) watchSignals(this);
  }

  get runId(): string {
    return this.info.runId;
  }

  get experimentId(): string {
    return this.info.experimentId;
  }

  get artifactUri(): string {
    return this.info.artifactUri;
  }

  /** Counters of the background sender. */
  get stats(): RunLoggerStats {
    return { ...this.logger.stats };
  }

  /**
   * Params are immutable in MLflow: logging a key again with another value throws here,
   * at the call site, instead of failing later in the background.
   */
  logParams(params: Record<string, string | number | boolean>): void {
    const values = stringifyParams(params);
    validateKeys('param', Object.keys(values));
    validateValueLengths('param', values);
    const changed = Object.entries(values).filter(([k, v]) => this.params.has(k) && this.params.get(k) !== v);
    if (changed.length > 0) {
      throw new TrackingError(`params cannot change within a run: ${changed.map(([k, v]) => `${k} was '${this.params.get(k)}', now '${v}'`).join('; ')}`, {
        code: 'PARAM_CHANGED',
        context: { keys: changed.map(([k]) => k), error_code: 'INVALID_PARAMETER_VALUE' },
      });
    }
    for (const [k, v] of Object.entries(values)) this.params.set(k, v);
    this.logger.enqueue({ params: values });
  }

  /** Logs metric points at `step` (default 0) and `timestamp` (default now). NaN/±Infinity are kept. */
  logMetrics(metrics: Record<string, number>, options: { step?: number; timestamp?: number } = {}): void {
    const timestamp = options.timestamp ?? Date.now();
    const step = options.step ?? 0;
    const points: Metric[] = [];
    for (const key in metrics) {
      if (!this.metricKeys.has(key)) {
        validateKeys('metric', [key]);
        this.metricKeys.add(key);
      }
      const point = { key, value: metrics[key]!, timestamp, step };
      validateMetric(point);
      points.push(point);
    }
    this.logger.enqueue({ metrics: points });
  }

  setTags(tags: Record<string, string>): void {
    const values = Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, String(v)]));
    validateKeys('tag', Object.keys(values));
    validateValueLengths('tag', values);
    this.logger.enqueue({ tags: values });
  }

  /** Uploads a file or directory under `artifactPath` (a directory in the run's artifacts). */
  async logArtifact(localPath: string, artifactPath?: string): Promise<void> {
    await this.store.logArtifact(this.info, localPath, artifactPath);
  }

  /** Writes `content` as artifact `artifactFile` (e.g. 'config/train.yaml'). */
  async logText(content: string | Uint8Array, artifactFile: string): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'deepline-artifact-'));
    try {
      const file = join(dir, posix.basename(artifactFile));
      await writeFile(file, content);
      await this.logArtifact(file, posix.dirname(artifactFile) === '.' ? undefined : posix.dirname(artifactFile));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  listArtifacts(path?: string): Promise<ArtifactFile[]> {
    return this.store.listArtifacts(this.info, path);
  }

  downloadArtifact(path: string, destination: string): Promise<void> {
    return this.store.downloadArtifact(this.info, path, destination);
  }

  /** Everything logged for `key` so far (flushes first so the answer includes buffered points). */
  async getMetricHistory(key: string): Promise<Metric[]> {
    await this.flush();
    return this.store.getMetricHistory(this.runId, key);
  }

  /** Records a dataset as a run input (shows under the run's inputs in the MLflow UI). */
  async logDataset(dataset: DatasetOptions): Promise<void> {
    const checks: [string, string | undefined, number][] = [
      ['name', dataset.name, LIMITS.datasetName],
      ['digest', dataset.digest, LIMITS.datasetDigest],
      ['source', dataset.source, LIMITS.datasetSource],
    ];
    for (const [field, value, limit] of checks) {
      if (!value || value.length > limit) {
        throw new TrackingError(`dataset ${field} must be 1-${limit} characters (got ${value?.length ?? 0})`, { code: 'INVALID_VALUE', context: { field: `dataset.${field}` } });
      }
    }
    const { context = 'training', ...rest } = dataset;
    await this.store.logInputs(this.runId, [{ dataset: rest, tags: { 'mlflow.data.context': context } }]);
  }

  /**
   * Registers `<artifact_uri>/<artifactPath>` as a new version of registered model `name`
   * (created when missing); optionally points `alias` at it.
   */
  async registerModel(name: string, artifactPath: string, options: { alias?: string } = {}): Promise<{ name: string; version: string }> {
    await this.store.createRegisteredModel(name);
    const source = `${this.artifactUri.replace(/\/+$/, '')}/${artifactPath.replace(/^\/+/, '')}`;
    const version = await this.store.createModelVersion({ name, source, runId: this.runId });
    if (options.alias) await this.store.setAlias(name, options.alias, version.version);
    return { name, version: version.version };
  }

  /** Starts a nested run (tag mlflow.parentRunId = this run) in the same experiment and store. */
  child(runName: string, options: Omit<CreateTrackerOptions, 'store' | 'parentRunId' | 'experimentName'> = {}): Promise<MlflowTracker> {
    return startRun({ ...this.options, spillDir: undefined, ...options, runName, parentRunId: this.runId, store: this.store }, this.experimentId);
  }

  /** Renders metric curves (from what the store holds) to `plots/<name>.png` (and .svg). */
  async logMetricPlot(options: { keys: string[]; name?: string; title?: string; logScale?: boolean; artifactPath?: string }): Promise<string> {
    await this.flush();
    const series = await Promise.all(options.keys.map(async (key) => ({ name: key, points: await this.store.getMetricHistory(this.runId, key) })));
    const svg = await lineChartSvg({ series, title: options.title ?? options.keys.join(', '), yTitle: options.keys.length === 1 ? options.keys[0] : 'value', logScale: options.logScale });
    const name = options.name ?? options.keys.map((k) => k.replace(/[^\w.-]+/g, '_')).join('-');
    return this.logPlot(svg, name, options.artifactPath ?? 'plots');
  }

  /** Renders an expert-load matrix (layers × experts) as a heatmap artifact. */
  async logExpertLoadHeatmap(options: { load: number[][]; step?: number; name?: string; artifactPath?: string }): Promise<string> {
    const title = options.step === undefined ? 'expert load' : `expert load at step ${options.step}`;
    const svg = await heatmapSvg({ values: options.load, title, rowTitle: 'layer', columnTitle: 'expert', valueTitle: 'tokens' });
    return this.logPlot(svg, options.name ?? (options.step === undefined ? 'expert-load' : `expert-load-step-${options.step}`), options.artifactPath ?? 'plots');
  }

  private async logPlot(svg: string, name: string, artifactPath: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'deepline-plot-'));
    try {
      await writeFile(join(dir, `${name}.svg`), svg);
      await writeFile(join(dir, `${name}.png`), await svgToPng(svg));
      await this.logArtifact(join(dir, `${name}.svg`), artifactPath);
      await this.logArtifact(join(dir, `${name}.png`), artifactPath);
      return `${artifactPath}/${name}.png`;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Sends everything buffered now; resolves false if the server stayed down for `timeoutMs`. */
  flush(timeoutMs = this.options.endTimeoutMs ?? 60_000): Promise<boolean> {
    return this.logger.flush({ timeoutMs });
  }

  /**
   * Ends the run: delivers buffered data (up to endTimeoutMs), then sets the status
   * (FINISHED, FAILED or KILLED) and end time. If the server stays down, what is left is
   * written to spillDir for replaySpill, and reported; nothing is dropped. Idempotent.
   */
  end(status: RunStatus = 'FINISHED'): Promise<EndReport> {
    this.ended ??= this.finish(status);
    return this.ended;
  }

  private async finish(status: RunStatus): Promise<EndReport> {
    unwatchSignals(this);
    const timeoutMs = this.options.endTimeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    const { pending, spillDir } = await this.logger.close({ timeoutMs });
    const endTime = Date.now();
    let statusSaved = false;
    while (!statusSaved) {
      try {
        await this.store.updateRun(this.runId, status, endTime);
        statusSaved = true;
      } catch (error) {
        if (Date.now() >= deadline) break;
        await new Promise((resolve) => setTimeout(resolve, Math.min(1000, Math.max(10, deadline - Date.now()))));
        if (!(error instanceof TrackingError)) throw error;
      }
    }
    const dir = spillDir ?? this.logger.spillDirPath;
    if (!statusSaved) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'run-end.json'), JSON.stringify({ runId: this.runId, status, endTime }));
    }
    if (pending > 0 || !statusSaved) {
      writeFileSync(join(dir, 'run.json'), JSON.stringify({ runId: this.runId, uri: this.store.uri }));
      (this.options.onError ?? defaultOnError)(
        new TrackingError(`MLflow unreachable at end of run ${this.runId}: ${pending} entities${statusSaved ? '' : ' and the final status'} kept in ${dir}; send them with replaySpill({ dir: '${dir}' })`, {
          code: 'UNDELIVERED',
          context: { file: dir },
        }),
      );
      return { status, pending: pending + (statusSaved ? 0 : 1), spillDir: dir, stats: this.stats };
    }
    return { status, pending: 0, stats: this.stats };
  }

  /** Runs `fn`, ending the run FINISHED, or FAILED (and rethrowing) when it throws. */
  async run<T>(fn: (tracker: MlflowTracker) => Promise<T> | T): Promise<T> {
    try {
      const result = await fn(this);
      await this.end('FINISHED');
      return result;
    } catch (error) {
      await this.end('FAILED');
      throw error;
    }
  }
}

async function startRun(options: CreateTrackerOptions, experimentId?: string): Promise<MlflowTracker> {
  const store = options.store ?? openStore({ uri: options.uri, env: options.env, retry: options.retry });
  const env = options.env ?? process.env;
  let expId = experimentId;
  if (expId === undefined) {
    const name = options.experimentName ?? env.MLFLOW_EXPERIMENT_NAME ?? 'Default';
    const existing = await store.getExperimentByName(name);
    expId = existing ? existing.experimentId : await store.createExperiment(name);
  }
  const tags: Record<string, string> = { ...sourceTags(), ...options.tags };
  if (options.parentRunId) tags['mlflow.parentRunId'] = options.parentRunId;
  if (options.description) tags['mlflow.note.content'] = options.description;
  validateKeys('tag', Object.keys(tags));
  validateValueLengths('tag', tags);
  const runName = options.runName ?? generatedRunName();
  tags['mlflow.runName'] = runName;
  const info = await store.createRun({ experimentId: expId, runName, startTime: Date.now(), userId: currentUser(), tags });
  return new MlflowTracker(store, info, options);
}

const ADJECTIVES = ['amber', 'brisk', 'calm', 'deft', 'eager', 'fleet', 'glad', 'keen', 'lucid', 'noble', 'quiet', 'swift'];
const NOUNS = ['otter', 'heron', 'lynx', 'finch', 'ibex', 'koala', 'marten', 'orca', 'puffin', 'raven', 'stoat', 'wren'];

function generatedRunName(): string {
  const pick = (list: string[]) => list[Math.floor(Math.random() * list.length)];
  return `${pick(ADJECTIVES)}-${pick(NOUNS)}-${Math.floor(Math.random() * 1000)}`;
}

/**
 * Opens the store (MLFLOW_TRACKING_URI or `uri`; default ./mlruns), finds or creates the
 * experiment and starts a run. The returned tracker implements core's Tracker.
 */
export function createTracker(options: CreateTrackerOptions = {}): Promise<MlflowTracker> {
  return startRun(options);
}

/** Runs `fn` inside a new run that ends FINISHED, or FAILED when `fn` throws. */
export async function withTracker<T>(options: CreateTrackerOptions, fn: (tracker: MlflowTracker) => Promise<T> | T): Promise<T> {
  const tracker = await createTracker(options);
  return tracker.run(fn);
}

/**
 * Sends what a run left in its spill directory while the server was down (and its final
 * status, if that was not delivered). Returns the number of entities sent.
 */
export async function replaySpill(options: { dir: string; uri?: string; store?: TrackingStore; timeoutMs?: number; env?: Record<string, string | undefined> }): Promise<number> {
  const runFile = join(options.dir, 'run.json');
  if (!existsSync(runFile)) throw new TrackingError(`${options.dir} is not a spill directory (no run.json)`, { code: 'NOT_FOUND', context: { file: runFile } });
  const meta = JSON.parse(readFileSync(runFile, 'utf8')) as { runId: string; uri: string };
  const store = options.store ?? openStore({ uri: options.uri ?? meta.uri, env: options.env });
  const logger = new RunLogger({ store, runId: meta.runId, spillDir: options.dir, flushIntervalMs: 50 });
  const total = logger.stats.pending;
  const { pending } = await logger.close({ timeoutMs: options.timeoutMs ?? 60_000 });
  if (pending > 0) throw new TrackingError(`replay of ${basename(options.dir)} incomplete: ${pending} entities still pending`, { code: 'UNDELIVERED', context: { file: options.dir } });
  const endFile = join(options.dir, 'run-end.json');
  if (existsSync(endFile)) {
    const end = JSON.parse(readFileSync(endFile, 'utf8')) as { status: RunStatus; endTime: number };
    await store.updateRun(meta.runId, end.status, end.endTime);
  }
  rmSync(options.dir, { recursive: true, force: true });
  if (!options.store) store.close();
  return total;
}
