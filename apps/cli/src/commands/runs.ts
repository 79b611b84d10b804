import { encodeDouble, type Experiment, openStore, type Run, TrackingError, type TrackingStore } from '@deepline/tracking';
import { type Command, parseFlags, UsageError } from '../command.js';

const USAGE = [
  'deepline runs list [--uri URI] [--experiment NAME] [--filter EXPR] [--max N] [--json]',
  '       deepline runs show <run_id> [--uri URI] [--json]',
  '  URI: http(s)://host:port (MLflow server) or an mlruns directory; default MLFLOW_TRACKING_URI, else ./mlruns',
].join('\n');

export const runsCommand: Command = {
  name: 'runs',
  summary: 'List or show MLflow runs (MLflow server or local mlruns store)',
  usage: USAGE,
  async run({ argv, stdout }) {
    const { values, positionals } = parseFlags(argv, {
      uri: { type: 'string' },
      experiment: { type: 'string' },
      filter: { type: 'string' },
      max: { type: 'string' },
      json: { type: 'boolean' },
    });
    const [action, ...rest] = positionals;
    if (action !== 'list' && action !== 'show') throw new UsageError(action === undefined ? 'missing action: list or show' : `unknown action '${action}' (expected list or show)`);
    const store = openStore({ uri: values.uri });
    try {
      if (action === 'list') {
        if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
        const max = values.max === undefined ? 100 : Number(values.max);
        if (!Number.isInteger(max) || max < 1) throw new UsageError(`--max must be a positive integer, got '${values.max}'`);
        const { experiments, runs } = await listRuns(store, { experiment: values.experiment, filter: values.filter, max });
        stdout.write(values.json ? `${JSON.stringify(runs.map(jsonRun), null, 2)}\n` : formatRunList(runs, experiments));
        return 0;
      }
      if (rest.length !== 1) throw new UsageError('runs show takes exactly one run id');
      const run = await store.getRun(rest[0]!);
      const artifacts = await store.listArtifacts(run.info).catch(() => []);
      stdout.write(values.json ? `${JSON.stringify({ ...jsonRun(run), artifacts }, null, 2)}\n` : formatRun(run, artifacts.map((a) => (a.isDir ? `${a.path}/` : a.path))));
      return 0;
    } finally {
      store.close();
    }
  },
};

async function listRuns(store: TrackingStore, options: { experiment?: string; filter?: string; max: number }): Promise<{ experiments: Experiment[]; runs: Run[] }> {
  let experiments: Experiment[];
  if (options.experiment !== undefined) {
    const found = await store.getExperimentByName(options.experiment);
    if (!found) throw new TrackingError(`no experiment named '${options.experiment}' in ${store.uri}`, { code: 'NOT_FOUND', context: { field: '--experiment' } });
    experiments = [found];
  } else experiments = await store.searchExperiments();
  if (experiments.length === 0) return { experiments, runs: [] };
  const runs = await store.searchRuns({ experimentIds: experiments.map((e) => e.experimentId), filter: options.filter, maxResults: options.max });
  return { experiments, runs };
}

/** A run as JSON, with non-finite metric values spelled as MLflow spells them. */
function jsonRun(run: Run) {
  return { ...run, data: { ...run.data, metrics: run.data.metrics.map((m) => ({ ...m, value: encodeDouble(m.value) })) } };
}

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().replace('.000Z', 'Z'));

function duration(run: Run): string {
  if (run.info.endTime === null) return '-';
  const s = Math.round((run.info.endTime - run.info.startTime) / 1000);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${s % 60}s` : `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return `${rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n')}\n`;
}

export function formatRunList(runs: Run[], experiments: Experiment[]): string {
  if (runs.length === 0) return 'no runs\n';
  const names = new Map(experiments.map((e) => [e.experimentId, e.name]));
  const rows = [['RUN ID', 'EXPERIMENT', 'NAME', 'STATUS', 'STARTED', 'DURATION', 'PARENT']];
  for (const r of runs) {
    rows.push([r.info.runId, names.get(r.info.experimentId) ?? r.info.experimentId, r.info.runName, r.info.status, iso(r.info.startTime), duration(r), r.data.tags['mlflow.parentRunId']?.slice(0, 8) ?? '-']);
  }
  return table(rows);
}

export function formatRun(run: Run, artifacts: string[]): string {
  const lines = [
    `run         ${run.info.runId}`,
    `name        ${run.info.runName}`,
    `experiment  ${run.info.experimentId}`,
    `status      ${run.info.status}`,
    `user        ${run.info.userId}`,
    `started     ${iso(run.info.startTime)}`,
    `ended       ${iso(run.info.endTime)} (${duration(run)})`,
    `artifacts   ${run.info.artifactUri}`,
  ];
  const section = (title: string, entries: [string, string][]) => {
    if (entries.length === 0) return;
    lines.push('', `${title}:`);
    const width = Math.max(...entries.map(([k]) => k.length));
    for (const [k, v] of entries.sort(([a], [b]) => a.localeCompare(b))) lines.push(`  ${k.padEnd(width)}  ${v}`);
  };
  section('params', Object.entries(run.data.params));
  section('metrics (latest)', run.data.metrics.map((m) => [m.key, `${m.value} (step ${m.step})`]));
  section('tags', Object.entries(run.data.tags).filter(([k]) => k !== 'deepline.runToken'));
  section('inputs', run.inputs.map((i) => [i.dataset.name, `${i.dataset.digest} (${i.tags['mlflow.data.context'] ?? 'input'})`]));
  if (artifacts.length > 0) lines.push('', 'artifact files:', ...artifacts.map((a) => `  ${a}`));
  return `${lines.join('\n')}\n`;
}
