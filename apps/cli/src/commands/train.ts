import { createLogger, initBackend, parseBackendChoice } from '@deepline/core';
import { registerNativeKernels } from '@deepline/kernels-native';
import { registerWasmKernels } from '@deepline/kernels-wasm';
import { withTracker } from '@deepline/tracking';
import { type FitSummary, type TrainConfig, loadTrainConfig, runTraining } from '@deepline/trainer';
import { type Command, UsageError, parseFlags } from '../command.js';

export const trainCommand: Command = {
  name: 'train',
  summary: 'Pre-train a DeepSeek-style model from token shards (YAML config), with exact resume',
  usage: 'deepline train --config train.yaml [--resume <checkpoint or run dir>] [--backend auto|wasm|cpu|...]',
  async run({ argv, stdout, stderr }) {
    const { values, positionals } = parseFlags(argv, {
      config: { type: 'string' },
      resume: { type: 'string' },
      backend: { type: 'string' },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (!values.config) throw new UsageError('--config is required');
    const config = await loadTrainConfig(values.config);
    const backend = values.backend === undefined ? undefined : parseBackendChoice(values.backend, '--backend');
    const logger = createLogger({ scope: 'train', stream: stderr });
    // deepline's wasm kernels (GEMM BatchMatMul, fused ops) apply only if wasm is selected.
    await registerWasmKernels();
    // The native GEMM on top of them, where its optional addon was built (else a no-op).
    await registerNativeKernels();
    await initBackend({ backend, logger });
    const train = (tracker?: Parameters<typeof runTraining>[0]['tracker']) =>
      runTraining({ config, resume: values.resume, tracker, logger, progress: { stream: stderr } });
    const summary = config.tracking ? await withTracker(trackerOptions(config), (tracker) => train(tracker)) : await train();
    stdout.write(`${JSON.stringify(summaryLine(summary))}\n`);
    return 0;
  },
};

function trackerOptions(config: TrainConfig) {
  const t = config.tracking!;
  return { uri: t.uri, experimentName: t.experiment, runName: t.runName };
}

function summaryLine(summary: FitSummary) {
  return { ...summary, lastLoss: summary.lastLoss ?? null };
}
