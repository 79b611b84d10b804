import { loadPipelineConfig, loadSearchConfig, runPipeline, searchPipeline } from '@deepline/pipeline';
import { type Command, UsageError, parseFlags } from '../command.js';

const USAGE = [
  'deepline pipeline run [config.yaml] [--preset default|smoke] [--from <stage>] [--only <stage>]',
  '       deepline pipeline search <search.yaml>',
  'Stages: data, tokenizer, shard, train, evaluate, quantize, export.',
].join('\n');

export const pipelineCommand: Command = {
  name: 'pipeline',
  summary: 'Raw text to a served, quantized model, tracked in MLflow (run | search)',
  usage: USAGE,
  async run({ argv, stdout }) {
    const [action, ...rest] = argv;
    const { values, positionals } = parseFlags(rest, {
      preset: { type: 'string' },
      from: { type: 'string' },
      only: { type: 'string' },
    });
    if (action === 'run') {
      if (positionals.length > 1) throw new UsageError(`expected at most one config file, got ${positionals.join(' ')}`);
      if (values.from && values.only) throw new UsageError('--from and --only cannot be combined');
      const config = await loadPipelineConfig({ path: positionals[0], preset: values.preset });
      const run = await runPipeline({ config, from: values.from, only: values.only });
      stdout.write(run.summary);
      return 0;
    }
    if (action === 'search') {
      if (positionals.length !== 1) throw new UsageError('pipeline search needs exactly one search config file');
      const result = await searchPipeline({ search: await loadSearchConfig(positionals[0]!) });
      for (const t of result.trials) stdout.write(`trial ${t.index}  ${JSON.stringify(t.assignment)}  ${t.value.toFixed(4)}  run ${t.runId}\n`);
      stdout.write(`best: trial ${result.best.index} ${JSON.stringify(result.best.assignment)} = ${result.best.value.toFixed(4)} (search run ${result.runId})\n`);
      return 0;
    }
    throw new UsageError(action === undefined ? 'missing action: run or search' : `unknown action '${action}': expected run or search`);
  },
};
