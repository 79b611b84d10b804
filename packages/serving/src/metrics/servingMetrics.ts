import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** vLLM's TTFT buckets (seconds), reused for the other latency histograms. */
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560];
const ITL_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];
const TOKEN_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000];

export interface ServingMetricsOptions {
  /** Value of the `model_name` label carried by every series. */
  modelName: string;
  /** Metric-name prefix; vLLM uses `vllm:`, we use `deepline_`. */
  prefix?: string;
  /** Also export Node process metrics (CPU, heap, event-loop lag). Default true. */
  processMetrics?: boolean;
}

/**
 * The vLLM v1 metric set under a `deepline_` prefix, in its own prom-client Registry so
 * several servers (or tests) in one process never collide.
 */
export class ServingMetrics {
  readonly registry = new Registry();
  readonly requestsRunning: Gauge;
  readonly requestsWaiting: Gauge;
  readonly kvCacheUsage: Gauge;
  readonly promptTokens: Counter;
  readonly generationTokens: Counter;
  readonly requestSuccess: Counter;
  readonly preemptions: Counter;
  readonly timeToFirstToken: Histogram;
  readonly interTokenLatency: Histogram;
  readonly e2eLatency: Histogram;
  readonly queueTime: Histogram;
  readonly prefillTime: Histogram;
  readonly decodeTime: Histogram;
  readonly requestPromptTokens: Histogram;
  readonly requestGenerationTokens: Histogram;
  readonly iterationTokens: Histogram;
  readonly requestMaxTokens: Histogram;
  readonly httpRequests: Counter;
  readonly responseCache: Counter;
  private readonly labels: { model_name: string };

  constructor(options: ServingMetricsOptions) {
    const p = options.prefix ?? 'deepline_';
    this.labels = { model_name: options.modelName };
    const registers = [this.registry];
    const labelNames = ['model_name'] as const;
    const gauge = (name: string, help: string) => new Gauge({ name: p + name, help, labelNames, registers });
    const counter = (name: string, help: string, extra: string[] = []) =>
      new Counter({ name: p + name, help, labelNames: [...labelNames, ...extra], registers });
    const histogram = (name: string, help: string, buckets: number[]) =>
      new Histogram({ name: p + name, help, labelNames, buckets, registers });

    this.requestsRunning = gauge('num_requests_running', 'Requests in the running batch.');
    this.requestsWaiting = gauge('num_requests_waiting', 'Requests waiting to be scheduled.');
    this.kvCacheUsage = gauge('kv_cache_usage_perc', 'Fraction of the KV-cache budget in use (0-1).');
    this.promptTokens = counter('prompt_tokens_total', 'Prefilled prompt tokens.');
    this.generationTokens = counter('generation_tokens_total', 'Generated tokens.');
    this.requestSuccess = counter('request_success_total', 'Finished requests by finish reason.', ['finished_reason']);
    this.preemptions = counter('num_preemptions_total', 'Requests preempted (never: KV space is reserved at admission).');
    this.timeToFirstToken = histogram('time_to_first_token_seconds', 'Arrival to first generated token.', LATENCY_BUCKETS);
    this.interTokenLatency = histogram('inter_token_latency_seconds', 'Time between consecutive generated tokens.', ITL_BUCKETS);
    this.e2eLatency = histogram('e2e_request_latency_seconds', 'Arrival to finish.', LATENCY_BUCKETS);
    this.queueTime = histogram('request_queue_time_seconds', 'Time spent waiting before scheduling.', LATENCY_BUCKETS);
    this.prefillTime = histogram('request_prefill_time_seconds', 'Time spent in prefill.', LATENCY_BUCKETS);
    this.decodeTime = histogram('request_decode_time_seconds', 'Time from first to last token.', LATENCY_BUCKETS);
    this.requestPromptTokens = histogram('request_prompt_tokens', 'Prompt length per request.', TOKEN_BUCKETS);
    this.requestGenerationTokens = histogram('request_generation_tokens', 'Generated tokens per request.', TOKEN_BUCKETS);
    this.iterationTokens = histogram('iteration_tokens_total', 'Tokens processed per engine iteration.', TOKEN_BUCKETS);
    this.requestMaxTokens = histogram('request_params_max_tokens', 'max_tokens requested.', TOKEN_BUCKETS);
    this.httpRequests = counter('http_requests_total', 'HTTP requests by route and status.', ['route', 'status']);
    this.responseCache = counter('response_cache_total', 'Response-cache lookups by result.', ['result']);
    for (const c of [this.promptTokens, this.generationTokens, this.preemptions]) c.inc(this.labels, 0);
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: p });
  }

  /** Label set every series carries; pass extra labels for the multi-label counters. */
  label<T extends Record<string, string>>(extra?: T): { model_name: string } & T {
    return { ...this.labels, ...(extra as T) };
  }

  /** Prometheus text exposition. */
  async render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
