/** Per-stage wall-clock timings in ms, reported in every search response and in /metrics. */
export class StageTimer {
  readonly stages: Record<string, number> = {};
  private readonly start = performance.now();
  onStage?: (stage: string, ms: number) => void;

  async time<T>(stage: string, fn: () => Promise<T> | T): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      const ms = performance.now() - t0;
      this.stages[stage] = round((this.stages[stage] ?? 0) + ms);
      this.onStage?.(stage, ms);
    }
  }

  total(): Record<string, number> {
    return { ...this.stages, total: round(performance.now() - this.start) };
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100;
