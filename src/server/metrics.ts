import client from 'prom-client';

/** Prometheus metrics: one registry per app so tests and benchmarks can run several apps in a process. */
export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const httpDuration = new client.Histogram({
    name: 'omnisearch_http_request_duration_seconds',
    help: 'HTTP request latency by route, method and status',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const stageDuration = new client.Histogram({
    name: 'omnisearch_stage_duration_seconds',
    help: 'Per-stage search timings: decode, stt, understand, embed, fuse, ann, lexical, hydrate',
    labelNames: ['stage'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const batchSize = new client.Histogram({
    name: 'omnisearch_batch_size',
    help: 'Items per model call (micro-batching)',
    labelNames: ['model'],
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers: [registry],
  });
  const queueDepth = new client.Gauge({ name: 'omnisearch_queue_depth', help: 'Requests waiting per model', labelNames: ['model'], registers: [registry] });
  const indexSize = new client.Gauge({ name: 'omnisearch_index_size', help: 'Vectors in the ANN index', registers: [registry] });
  const modelInfo = new client.Gauge({
    name: 'omnisearch_model_info',
    help: 'Loaded models: 1 per model with its provider and variant',
    labelNames: ['role', 'provider', 'variant'],
    registers: [registry],
  });
  return { registry, httpDuration, stageDuration, batchSize, queueDepth, indexSize, modelInfo };
}

export type Metrics = ReturnType<typeof createMetrics>;
