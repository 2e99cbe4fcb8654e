/**
 * Exact top-k by inner product, the two fast ways: (1) blocked dot products over Float32Array in
 * plain JS — a block of base rows stays in cache while groups of four queries stream over it,
 * four accumulators per row in one tight loop; (2) onnxruntime's MLAS GEMM (a Gemm + TopK graph
 * run through the project's session factory), i.e. a BLAS-class kernel already in the
 * dependency tree. Both answer many queries per pass, which is what makes a scan fast.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Graph } from '../../src/models/onnx/graph.ts';
import { createSession, ort } from '../../src/models/runtime.ts';

/** Row indices of the k best rows per query, best first. */
export function exactScanJs(base: Float32Array, queries: Float32Array, dim: number, k: number): Int32Array[] {
  const n = base.length / dim;
  const nq = queries.length / dim;
  const topIdx = Array.from({ length: nq }, () => new Int32Array(k).fill(-1));
  const topVal = Array.from({ length: nq }, () => new Float32Array(k).fill(-Infinity));
  const BLOCK = 1024; // 1024 x 512 floats = 2 MiB: stays in L2 while every query group passes over it
  for (let b0 = 0; b0 < n; b0 += BLOCK) {
    const b1 = Math.min(n, b0 + BLOCK);
    for (let q = 0; q < nq; q += 4) {
      const q0 = q * dim;
      const has = Math.min(4, nq - q);
      for (let r = b0; r < b1; r++) {
        const o = r * dim;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        if (has === 4) {
          for (let j = 0; j < dim; j++) {
            const x = base[o + j]!;
            s0 += x * queries[q0 + j]!;
            s1 += x * queries[q0 + dim + j]!;
            s2 += x * queries[q0 + 2 * dim + j]!;
            s3 += x * queries[q0 + 3 * dim + j]!;
          }
        } else {
          for (let j = 0; j < dim; j++) {
            const x = base[o + j]!;
            s0 += x * queries[q0 + j]!;
            if (has > 1) s1 += x * queries[q0 + dim + j]!;
            if (has > 2) s2 += x * queries[q0 + 2 * dim + j]!;
          }
        }
        push(topVal[q]!, topIdx[q]!, s0, r);
        if (has > 1) push(topVal[q + 1]!, topIdx[q + 1]!, s1, r);
        if (has > 2) push(topVal[q + 2]!, topIdx[q + 2]!, s2, r);
        if (has > 3) push(topVal[q + 3]!, topIdx[q + 3]!, s3, r);
      }
    }
  }
  return topIdx;
}

/** Insert into a descending top-k list if it beats the current k-th. */
function push(vals: Float32Array, idx: Int32Array, v: number, i: number): void {
  const k = vals.length;
  if (v <= vals[k - 1]!) return;
  let p = k - 1;
  while (p > 0 && vals[p - 1]! < v) {
    vals[p] = vals[p - 1]!;
    idx[p] = idx[p - 1]!;
    p--;
  }
  vals[p] = v;
  idx[p] = i;
}

/** Gemm(queries, base^T) + TopK through onnxruntime; the base is fed as an input, not baked into the file. */
export async function ortExactScanner(dim: number, k: number): Promise<{ search(base: ort.Tensor, queries: Float32Array): Promise<Int32Array[]>; release(): Promise<void> }> {
  const g = new Graph('exact_scan');
  const q = g.input('queries', 'float32', ['nq', dim]);
  const b = g.input('base', 'float32', ['n', dim]);
  const scores = g.op('Gemm', [q, b], { transB: 1 });
  const [, idx] = g.node('TopK', [scores, g.constInt64([k])], 2, { axis: -1, largest: 1, sorted: 1 });
  g.output('indices', 'int64', ['nq', k], idx);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'exact-scan-')), 'exact_scan.onnx');
  fs.writeFileSync(file, g.toBytes());
  const s = await createSession(file, { device: 'cpu', threads: 0 });
  return {
    async search(base, queries) {
      const nq = queries.length / dim;
      const out = await s.session.run({ queries: new ort.Tensor('float32', queries, [nq, dim]), base }, ['indices']);
      const data = out.indices!.data as BigInt64Array;
      return Array.from({ length: nq }, (_, i) => Int32Array.from(data.subarray(i * k, (i + 1) * k), Number));
    },
    async release() {
      await s.session.release();
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    },
  };
}

/** Fraction of the true top-k found, over all queries. */
export function recallAtK(truth: Int32Array[], got: ArrayLike<number>[], k: number): number {
  let hit = 0;
  for (let i = 0; i < truth.length; i++) {
    const want = new Set(Array.from(truth[i]!.subarray(0, k)));
    const g = got[i]!;
    for (let j = 0; j < Math.min(k, g.length); j++) if (want.has(g[j]!)) hit++;
  }
  return hit / (truth.length * k);
}
