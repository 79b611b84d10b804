import { createTracker } from '@deepline/tracking';

/** The README's example: a short "training" run logged to MLflow (or ./mlruns). */
export async function readmeExample(uri?: string): Promise<string> {
  // MLFLOW_TRACKING_URI (or `uri`) picks the store: http(s)://… → MLflow server, else a local mlruns dir.
  const tracker = await createTracker({ uri, experimentName: 'tiny-moe', runName: 'pretrain', tags: { stage: 'pretrain' } });
  await tracker.run(async (t) => {
    t.logParams({ lr: 3e-4, layers: 2, experts: 4 });
    for (let step = 0; step < 20; step++) {
      // Returns at once: points are batched and sent in the background.
      t.logMetrics({ 'train/loss': 4 * Math.exp(-step / 8), lr: 3e-4 }, { step });
    }
    await t.logMetricPlot({ keys: ['train/loss'], name: 'loss' });
    await t.logExpertLoadHeatmap({ load: [[12, 3, 9, 8], [7, 7, 8, 10]], step: 19 });
    const child = await t.child('eval'); // nested run (mlflow.parentRunId)
    child.logMetrics({ 'eval/ppl': 12.5 });
    await child.end();
  }); // ends FINISHED, or FAILED if the callback throws; SIGINT/SIGTERM → KILLED
  return tracker.runId;
}
