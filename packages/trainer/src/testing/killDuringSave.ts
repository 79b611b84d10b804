// Child process of the kill-during-save test: checkpoints step 2, then stalls inside the
// step-3 checkpoint write and reports it, so the parent can SIGKILL it mid-write.
import { initBackend } from '@deepline/core';
import { resumeTrainer } from './resumeScenario.js';

const dir = process.argv[2]!;
await initBackend({ backend: 'cpu' });
const { trainer } = resumeTrainer({ modelSeed: 1, checkpointDir: dir });
await trainer.trainStep();
await trainer.trainStep();
await trainer.saveCheckpoint();
process.stdout.write('SAVED 2\n');
await trainer.trainStep();
await trainer.saveCheckpoint({
  onFile: async (file) => {
    if (file !== 'optimizer.safetensors') return;
    process.stdout.write('WRITING 3\n');
    await new Promise(() => setInterval(() => {}, 1000));
  },
});
