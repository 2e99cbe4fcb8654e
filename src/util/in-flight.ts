/**
 * Counts calls in progress so a model swapped out by a reload releases its onnxruntime sessions
 * only after the calls already running on them have finished.
 */
export class InFlight {
  private count = 0;
  private waiters: (() => void)[] = [];

  async track<T>(fn: () => Promise<T>): Promise<T> {
    this.count++;
    try {
      return await fn();
    } finally {
      if (--this.count === 0) for (const w of this.waiters.splice(0)) w();
    }
  }

  drained(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }
}
