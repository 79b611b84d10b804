/**
 * What training and apps need from an experiment tracker. @deepline/tracking implements
 * it (MLflow REST or the local mlruns store); packages receive it by injection and never
 * import tracking. Every method may buffer: callers never wait on the network.
 */
export interface Tracker {
  logParams(params: Record<string, string | number | boolean>): void | Promise<void>;
  logMetrics(metrics: Record<string, number>, options?: { step?: number; timestamp?: number }): void | Promise<void>;
  setTags(tags: Record<string, string>): void | Promise<void>;
  /** Uploads a local file (or directory) under the run's artifacts, at `artifactPath` (a directory). */
  logArtifact(localPath: string, artifactPath?: string): Promise<void>;
  /** Registers the artifact directory as a model version, when the store supports it. */
  registerModel?(name: string, artifactPath: string): Promise<{ name: string; version: string }>;
}

/** A tracker that records nothing (the default when none is injected). */
export const noopTracker: Tracker = {
  logParams: () => {},
  logMetrics: () => {},
  setTags: () => {},
  logArtifact: async () => {},
};
