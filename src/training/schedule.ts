/**
 * Learning-rate schedule: linear warm-up, then cosine decay to `minLr`.
 *
 * `step` is the 0-based index of the optimizer step about to be taken:
 * - warm-up, step < warmupSteps: baseLr * (step + 1) / warmupSteps, so the first step already
 *   moves (Hugging Face's schedule starts at exactly 0, which wastes a step) and the last warm-up
 *   step reaches baseLr;
 * - afterwards: minLr + (baseLr - minLr) * 0.5 * (1 + cos(pi * progress)), with
 *   progress = (step - warmupSteps) / (totalSteps - warmupSteps), clamped to [0, 1], so
 *   step == warmupSteps gives baseLr and step == totalSteps gives minLr.
 */
export interface ScheduleOptions {
  baseLr: number;
  warmupSteps: number;
  totalSteps: number;
  minLr?: number;
}

export type LrSchedule = (step: number) => number;

export function warmupCosine(opts: ScheduleOptions): LrSchedule {
  const { baseLr, warmupSteps, totalSteps } = opts;
  const minLr = opts.minLr ?? 0;
  if (!(warmupSteps >= 0) || !(totalSteps >= 1)) throw new Error('schedule needs warmupSteps >= 0 and totalSteps >= 1');
  const decaySteps = Math.max(1, totalSteps - warmupSteps);
  return (step: number): number => {
    if (step < warmupSteps) return (baseLr * (step + 1)) / warmupSteps;
    const progress = Math.min(1, Math.max(0, (step - warmupSteps) / decaySteps));
    return minLr + (baseLr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
  };
}

/** Warm-up length used by the trainers: 5% of all steps, at least one step, at most 200. */
export function defaultWarmup(totalSteps: number): number {
  return Math.min(200, Math.max(1, Math.round(totalSteps * 0.05)));
}
