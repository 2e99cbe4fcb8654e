/**
 * Seeded randomness for training: the same generator that builds the model packs (mulberry32),
 * plus the shuffles and initialisers the trainers need. One seed -> one run, bit for bit.
 */
import { Rng } from '../models/onnx/rng.ts';

export { Rng };

/** In-place Fisher-Yates shuffle. */
export function shuffleInPlace<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const tmp = items[i]!;
    items[i] = items[j]!;
    items[j] = tmp;
  }
  return items;
}

/** A random permutation of 0..n-1. */
export function permutation(n: number, rng: Rng): number[] {
  return shuffleInPlace(
    Array.from({ length: n }, (_, i) => i),
    rng,
  );
}

/** Glorot/Xavier uniform init for a [fanIn, fanOut] matrix: keeps activation variance steady for tanh-like units. */
export function glorotUniform(fanIn: number, fanOut: number, rng: Rng): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return rng.uniforms(fanIn * fanOut, -limit, limit);
}
