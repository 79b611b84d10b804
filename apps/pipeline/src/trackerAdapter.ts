import type { MlflowTracker } from '@deepline/tracking';
import type { RunTracker } from './stage.js';

/** Presents an MLflow run as the pipeline's RunTracker (child runs are nested MLflow runs). */
export function asRunTracker(run: MlflowTracker): RunTracker {
  return {
    get runId() {
      return run.runId;
    },
    logParams: (params) => run.logParams(params),
    logMetrics: (metrics, options) => run.logMetrics(metrics, options),
    setTags: (tags) => run.setTags(tags),
    logArtifact: (path, artifactPath) => run.logArtifact(path, artifactPath),
    registerModel: (name, artifactPath) => run.registerModel(name, artifactPath),
    child: async (runName, tags) => asRunTracker(await run.child(runName, { tags })),
    end: async (status) => {
      await run.end(status);
    },
  };
}
