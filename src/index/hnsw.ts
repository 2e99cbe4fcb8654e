import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import hnswlib from 'hnswlib-node';
import { writeFileAtomic } from '../util/atomic.ts';
import { compileFilter, normaliseFacets, type IndexFacets, type IndexFilter } from './facets.ts';

const { HierarchicalNSW } = hnswlib;
type Hnsw = InstanceType<typeof HierarchicalNSW>;

export interface VectorIndexOptions {
  /** Graph degree; more = better recall, more memory. */
  M?: number;
  efConstruction?: number;
  /** Search breadth at query time (raised to k when k is larger). */
  ef?: number;
  initialCapacity?: number;
}

/** Why a persisted index could not be used. The caller answers it with a rebuild from the store. */
export class IndexLoadError extends Error {
  constructor(
    readonly reason: 'corrupt' | 'dim_mismatch' | 'unsupported',
    message: string,
  ) {
    super(message);
    this.name = 'IndexLoadError';
  }
}

const META_FILE = 'index.meta.json';
const META_FORMAT = 1;
/**
 * Query-time breadth. Measured on 5,000 64-d unit vectors (recall@10 vs exact search, 2 cores):
 * clustered data 0.95 at ef=64, 0.99 at 128; near-random data 0.90 at 64, 0.98 at 128. A query
 * at 128 costs ~0.1 ms there, nothing beside a CLIP forward pass, so recall wins.
 */
export const DEFAULT_EF = 128;
/**
 * Graph degree and build breadth: hnswlib's own defaults. On 100k x 512 CLIP-like vectors
 * (bench:ann) they give the most queries per second at recall 0.95 of the settings tried; M 32 /
 * efConstruction 64 built 2x faster but answered ~25% fewer queries at the same recall, and a
 * build is rare next to searches (ingest is bound by CLIP, not by the graph).
 */
export const DEFAULT_M = 16;
export const DEFAULT_EF_CONSTRUCTION = 200;
/** Size and sha1 of a file, read in chunks: a 1M x 512 graph is over 2 GiB, past what one Buffer (readFileSync) can hold. */
export function fileSha1(file: string): { bytes: number; sha1: string } {
  const hash = createHash('sha1');
  const buf = Buffer.allocUnsafe(8 << 20);
  const fd = fs.openSync(file, 'r');
  let bytes = 0;
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, bytes)) > 0; bytes += n) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return { bytes, sha1: hash.digest('hex') };
}

const SEED = 100; // fixed, so a rebuild from the same data gives the same graph

interface Meta {
  format: number;
  dim: number;
  space: 'ip';
  M: number;
  efConstruction: number;
  /** The index file this meta describes; versioned so meta never names a half-written or newer graph. */
  generation: number;
  indexFile: string;
  indexBytes: number;
  indexSha1: string;
  lastSeq: number;
  nextLabel: number;
  /** [id, hnsw label, normalised facets] for every live vector. */
  entries: [string, number, IndexFacets][];
}

/**
 * The ANN index: hnswlib's HNSW graph over L2-normalised vectors in inner-product space, so
 * `1 - distance` is the cosine similarity. String ids map to numeric labels; the facets the
 * filters read sit in memory beside that map and are checked inside the graph search through
 * hnswlib's filter callback, so a selective filter still returns k hits when k exist.
 *
 * Labels: an id keeps its label while it lives, and re-upserting it updates that graph node in
 * place (hnswlib's updatePoint, which rewires the neighbours), so the old vector is gone. A
 * removed id's node is markDeleted and its label retired; a new id gets a fresh label and
 * `addPoint(..., replaceDeleted=true)` reuses a deleted node's slot, so churn does not grow the
 * index. Labels are never reused: hnswlib erases the *old* label of a reused slot from its
 * lookup, which would break a live id that had been handed that label again.
 */
export class VectorIndex {
  private readonly labelOf = new Map<string, number>();
  private readonly idOf = new Map<number, string>();
  private readonly facetsOf = new Map<number, IndexFacets>();
  private nextLabel = 0;
  private generation = 0;
  private seq = 0;

  private constructor(
    private readonly hnsw: Hnsw,
    readonly dir: string,
    readonly dim: number,
    readonly params: { M: number; efConstruction: number; ef: number },
  ) {}

  /** Store seq the persisted copy reflects: changes after it are replayed at start. */
  get lastSeq(): number {
    return this.seq;
  }

  get size(): number {
    return this.labelOf.size;
  }

  get capacity(): number {
    return this.hnsw.getMaxElements();
  }

  /** An empty index for `dir`, ignoring what is saved there (a rebuild; the next save replaces it). */
  static create(dir: string, dim: number, opts: VectorIndexOptions = {}): VectorIndex {
    if (!Number.isInteger(dim) || dim <= 0) throw new Error(`invalid vector dimension ${dim}`);
    const M = opts.M ?? DEFAULT_M;
    const efConstruction = opts.efConstruction ?? DEFAULT_EF_CONSTRUCTION;
    const hnsw = new HierarchicalNSW('ip', dim);
    hnsw.initIndex(Math.max(16, opts.initialCapacity ?? 1024), M, efConstruction, SEED, true);
    return new VectorIndex(hnsw, dir, dim, { M, efConstruction, ef: opts.ef ?? DEFAULT_EF });
  }

  /** Whether `dir` holds a saved index (it may still fail to load). */
  static hasSaved(dir: string): boolean {
    return fs.existsSync(path.join(dir, META_FILE));
  }

  /** Loads `<dir>/index.meta.json` and the graph it names, or starts empty when there is none. */
  static async open(dir: string, dim: number, opts: VectorIndexOptions = {}): Promise<VectorIndex> {
    const metaPath = path.join(dir, META_FILE);
    if (!fs.existsSync(metaPath)) return VectorIndex.create(dir, dim, opts);

    let meta: Meta;
    try {
      meta = JSON.parse(fs.readFileSync(metaPath, 'utf8')) as Meta;
    } catch (err) {
      throw new IndexLoadError('corrupt', `index meta ${metaPath} is unreadable: ${(err as Error).message}`);
    }
    if (!meta || typeof meta !== 'object' || meta.format !== META_FORMAT || meta.space !== 'ip' || !Array.isArray(meta.entries)) {
      throw new IndexLoadError('unsupported', `index meta ${metaPath} has an unknown format`);
    }
    if (meta.dim !== dim) throw new IndexLoadError('dim_mismatch', `saved index holds ${meta.dim}-d vectors, the model gives ${dim}-d`);

    const file = path.join(dir, path.basename(String(meta.indexFile)));
    let sum: { bytes: number; sha1: string };
    try {
      sum = fileSha1(file);
    } catch (err) {
      throw new IndexLoadError('corrupt', `index file ${file} is missing: ${(err as Error).message}`);
    }
    // hnswlib trusts the bytes it reads; a damaged file could crash the process, so check first.
    if (sum.bytes !== meta.indexBytes || sum.sha1 !== meta.indexSha1) {
      throw new IndexLoadError('corrupt', `index file ${file} does not match its meta (size or checksum)`);
    }
    const hnsw = new HierarchicalNSW('ip', dim);
    try {
      hnsw.readIndexSync(file, true);
    } catch (err) {
      throw new IndexLoadError('corrupt', `index file ${file} cannot be read: ${(err as Error).message}`);
    }
    const index = new VectorIndex(hnsw, dir, dim, {
      M: meta.M,
      efConstruction: meta.efConstruction,
      ef: opts.ef ?? DEFAULT_EF,
    });
    const labels = new Set(hnsw.getIdsList());
    for (const [id, label, facets] of meta.entries) {
      if (!labels.has(label)) throw new IndexLoadError('corrupt', `index meta names label ${label} (${id}) the graph lacks`);
      index.labelOf.set(id, label);
      index.idOf.set(label, id);
      index.facetsOf.set(label, facets ?? {});
    }
    index.nextLabel = meta.nextLabel;
    index.generation = meta.generation;
    index.seq = meta.lastSeq;
    return index;
  }

  has(id: string): boolean {
    return this.labelOf.has(id);
  }

  /** Adds or replaces `id`. Throws on a vector of the wrong length, non-finite or all zero. */
  upsert(id: string, vector: Float32Array, facets: IndexFacets): void {
    const point = this.prepare(vector);
    const existing = this.labelOf.get(id);
    if (existing !== undefined) {
      this.hnsw.addPoint(point, existing, false); // existing live label: hnswlib updates the node in place
      this.facetsOf.set(existing, normaliseFacets(facets));
      return;
    }
    const label = this.nextLabel;
    if (label >= 2 ** 32) throw new Error('vector index ran out of labels; rebuild it');
    const freeSlots = this.hnsw.getCurrentCount() - this.labelOf.size; // markDeleted nodes
    if (freeSlots === 0 && this.hnsw.getCurrentCount() >= this.hnsw.getMaxElements()) {
      this.hnsw.resizeIndex(Math.max(16, this.hnsw.getMaxElements() * 2));
    }
    this.hnsw.addPoint(point, label, true);
    this.nextLabel++;
    this.labelOf.set(id, label);
    this.idOf.set(label, id);
    this.facetsOf.set(label, normaliseFacets(facets));
  }

  remove(id: string): boolean {
    const label = this.labelOf.get(id);
    if (label === undefined) return false;
    this.hnsw.markDelete(label);
    this.labelOf.delete(id);
    this.idOf.delete(label);
    this.facetsOf.delete(label);
    return true;
  }

  /** Up to k nearest live vectors satisfying `filter`, best first; score is cosine similarity. */
  search(vector: Float32Array, k: number, opts: { ef?: number; filter?: IndexFilter } = {}): { id: string; score: number }[] {
    const want = Math.min(Math.floor(k), this.labelOf.size);
    if (!(want > 0)) return [];
    const point = this.prepare(vector);
    const ef = Math.floor(opts.ef ?? this.params.ef);
    this.hnsw.setEf(Math.max(want, Number.isFinite(ef) ? ef : this.params.ef));
    const pred = compileFilter(opts.filter);
    const facets = this.facetsOf;
    const res = pred ? this.hnsw.searchKnn(point, want, (label) => pred(facets.get(label))) : this.hnsw.searchKnn(point, want);
    const out: { id: string; score: number }[] = [];
    for (let i = 0; i < res.neighbors.length; i++) {
      const id = this.idOf.get(res.neighbors[i]);
      if (id !== undefined) out.push({ id, score: 1 - res.distances[i] });
    }
    return out;
  }

  /**
   * Crash-safe save. The graph goes to a new generation file (temp, fsync, rename), then the meta
   * naming it is replaced atomically (temp, fsync, rename, fsync dir); only then is the previous
   * generation deleted. A crash at any point leaves a meta that names a complete graph it matches.
   * writeIndexSync, not hnswlib's async writeIndex: that one serialises on a worker thread while
   * the main thread may be adding points, and the id map snapshot below would not match the graph.
   */
  async save(lastSeq: number): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true });
    const generation = this.generation + 1;
    const indexFile = `index.${generation}.hnsw`;
    const target = path.join(this.dir, indexFile);
    const tmp = `${target}.${process.pid}.tmp`;
    this.hnsw.writeIndexSync(tmp);
    const meta: Meta = {
      format: META_FORMAT,
      dim: this.dim,
      space: 'ip',
      M: this.params.M,
      efConstruction: this.params.efConstruction,
      generation,
      indexFile,
      indexBytes: 0,
      indexSha1: '',
      lastSeq,
      nextLabel: this.nextLabel,
      entries: [...this.labelOf].map(([id, label]) => [id, label, this.facetsOf.get(label) ?? {}]),
    };
    const sum = fileSha1(tmp);
    meta.indexBytes = sum.bytes;
    meta.indexSha1 = sum.sha1;
    const fd = fs.openSync(tmp, 'r+');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, target);
    writeFileAtomic(path.join(this.dir, META_FILE), JSON.stringify(meta)); // also fsyncs the folder
    this.generation = generation;
    this.seq = lastSeq;
    for (const f of fs.readdirSync(this.dir)) {
      if (f !== indexFile && /^index\.\d+\.hnsw(\..*\.tmp)?$/.test(f)) fs.rmSync(path.join(this.dir, f), { force: true });
    }
  }

  private prepare(vector: Float32Array): number[] {
    if (vector.length !== this.dim) throw new Error(`vector has ${vector.length} dimensions, the index ${this.dim}`);
    let ss = 0;
    for (let i = 0; i < vector.length; i++) ss += vector[i] * vector[i];
    if (!Number.isFinite(ss) || ss === 0) throw new Error('vector is zero or not finite');
    const inv = 1 / Math.sqrt(ss);
    const out = new Array<number>(vector.length);
    for (let i = 0; i < vector.length; i++) out[i] = vector[i] * inv;
    return out;
  }
}
