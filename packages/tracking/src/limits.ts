/** Server-side limits of MLflow (mlflow/utils/validation.py). */
export const LIMITS = {
  batchMetrics: 1000,
  batchParams: 100,
  batchTags: 100,
  batchTotal: 1000,
  /** The server rejects request bodies over 1 MB; we keep a margin for JSON framing. */
  batchBytes: 1_000_000 - 16_384,
  keyLength: 250,
  paramValue: 6000,
  tagValue: 8000,
  experimentName: 500,
  datasetName: 500,
  datasetDigest: 36,
  datasetSource: 65_535,
  inputTagKey: 255,
  inputTagValue: 500,
  searchMaxResults: 50_000,
  /** What the Python client asks get-history for. */
  historyPageSize: 25_000,
} as const;
