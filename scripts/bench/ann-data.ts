/**
 * Vectors for the ANN benchmark, harder than well-separated clusters and closer in shape to CLIP
 * embeddings: many centres (1,000) with per-point noise as large as the spread of the centres,
 * an anisotropic spectrum (a few directions carry most of the variance, as in real embedding
 * spaces), and a shared component every vector leans towards (CLIP's "cone": unrelated
 * embeddings still have positive cosine). Everything is L2-normalised, like the product vectors.
 */
import { gaussian, rng } from './lib.ts';

export interface AnnDataOptions {
  n: number;
  queries: number;
  dim: number;
  centres: number;
  /** Noise norm relative to the centre spread (1 = as large as the distance between centres). */
  noise: number;
  /** Norm of the shared component relative to the centre spread. */
  shared: number;
  /** Variance along direction j falls as (j+1)^-spectrumPower: 0 is isotropic, larger is flatter data. */
  spectrumPower: number;
  seed: number;
}

export const ANN_DATA_DEFAULTS: Omit<AnnDataOptions, 'n' | 'queries'> = { dim: 512, centres: 1000, noise: 1.5, shared: 0.8, spectrumPower: 1, seed: 7 };

/** Base and query vectors as row-major Float32Arrays (`shared` lets worker threads read them without a copy). */
export function annData(o: AnnDataOptions): { base: Float32Array; queries: Float32Array } {
  const { dim } = o;
  const g = gaussian(rng(o.seed));
  const pick = rng(o.seed + 1);
  // Power-law spectrum, scaled so a standard normal through it has expected squared norm `dim`.
  const spectrum = new Float32Array(dim);
  let ss = 0;
  for (let j = 0; j < dim; j++) ss += (spectrum[j] = (j + 1) ** (-o.spectrumPower / 2)) ** 2;
  const scale = Math.sqrt(dim / ss);
  for (let j = 0; j < dim; j++) spectrum[j]! *= scale / Math.sqrt(dim); // unit expected norm overall
  const shared = new Float32Array(dim);
  let sn = 0;
  for (let j = 0; j < dim; j++) sn += (shared[j] = g()) ** 2;
  for (let j = 0; j < dim; j++) shared[j] = (shared[j]! / Math.sqrt(sn)) * o.shared;
  const centres = new Float32Array(o.centres * dim);
  for (let i = 0; i < centres.length; i++) centres[i] = g() * spectrum[i % dim]!;

  const fill = (rows: number, out: Float32Array) => {
    for (let r = 0; r < rows; r++) {
      const c = Math.floor(pick() * o.centres);
      const row = out.subarray(r * dim, (r + 1) * dim);
      let n2 = 0;
      for (let j = 0; j < dim; j++) {
        const v = shared[j]! + centres[c * dim + j]! + o.noise * g() * spectrum[j]!;
        row[j] = v;
        n2 += v * v;
      }
      const inv = 1 / Math.sqrt(n2);
      for (let j = 0; j < dim; j++) row[j]! *= inv;
    }
  };
  const base = new Float32Array(new SharedArrayBuffer(o.n * dim * 4));
  const queries = new Float32Array(o.queries * dim);
  fill(o.n, base);
  fill(o.queries, queries);
  return { base, queries };
}
