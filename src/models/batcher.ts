import { unavailable } from '../errors.ts';

export interface BatcherOptions {
  /** Largest batch handed to the model in one call. 1 turns batching off. */
  maxBatch: number;
  /** How long the first queued item waits for company before its batch runs. */
  maxWaitMs: number;
  /** Items allowed to wait; beyond this callers get 503 + Retry-After instead of an unbounded queue. */
  maxQueue: number;
  name: string;
}

export interface BatcherStats {
  queued: number;
  running: boolean;
  batches: number;
  items: number;
  rejected: number;
}

interface Pending<I, O> {
  item: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

/**
 * Micro-batching: concurrent requests to one model are gathered into a single session.run, which
 * on CPU and GPU alike costs far less than running them one by one. One batch runs at a time per
 * model, so the next batch fills while the current one computes.
 */
export class Batcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  readonly stats: BatcherStats = { queued: 0, running: false, batches: 0, items: 0, rejected: 0 };
  /** Called with each batch size, for metrics. */
  onBatch?: (size: number) => void;

  constructor(
    private readonly fn: (items: I[]) => Promise<O[]>,
    readonly opts: BatcherOptions,
  ) {}

  run(item: I): Promise<O> {
    if (this.queue.length >= this.opts.maxQueue) {
      this.stats.rejected++;
      return Promise.reject(unavailable('queue_full', `the ${this.opts.name} model queue is full; retry shortly`));
    }
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.stats.queued = this.queue.length;
      this.schedule();
    });
  }

  /** Runs many items (e.g. an ingest batch) through the same queue without the queue-size check. */
  async runMany(items: I[]): Promise<O[]> {
    if (items.length === 0) return [];
    return this.fn(items);
  }

  get depth(): number {
    return this.queue.length;
  }

  private schedule(): void {
    if (this.running) return;
    if (this.queue.length >= this.opts.maxBatch || this.opts.maxWaitMs <= 0) {
      this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.opts.maxWaitMs);
    }
  }

  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.running || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.opts.maxBatch);
    this.stats.queued = this.queue.length;
    this.running = this.stats.running = true;
    this.stats.batches++;
    this.stats.items += batch.length;
    this.onBatch?.(batch.length);
    this.fn(batch.map((p) => p.item))
      .then(
        (outs) => {
          if (outs.length !== batch.length) throw new Error(`${this.opts.name}: batch returned ${outs.length} for ${batch.length}`);
          batch.forEach((p, i) => p.resolve(outs[i]));
        },
        (err) => batch.forEach((p) => p.reject(err)),
      )
      .catch((err) => batch.forEach((p) => p.reject(err)))
      .finally(() => {
        this.running = this.stats.running = false;
        // Whatever arrived while this batch ran goes next, without another wait.
        if (this.queue.length > 0) this.flush();
      });
  }
}
