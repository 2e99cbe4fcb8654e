import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config.ts';
import { log } from './log.ts';
import { Batcher, type BatcherOptions } from './models/batcher.ts';
import { ClipModel } from './models/clip.ts';
import { FusionModel } from './models/fusion.ts';
import { IntentModel } from './models/intent.ts';
import { NerModel, type NerEntity } from './models/ner.ts';
import { readManifest, resolveModelFile, type PackManifest } from './models/registry.ts';
import type { ModelSession, RuntimeOptions } from './models/runtime.ts';
import { WhisperModel } from './models/whisper.ts';
import { CatalogStore } from './catalog/store.ts';
import { openSyncedIndex } from './catalog/index-sync.ts';
import { ingestProducts, type IngestResult } from './catalog/ingest.ts';
import type { Product, ProductFacets, SearchFilters } from './catalog/types.ts';
import type { VectorIndex } from './index/hnsw.ts';
import { decodeImage } from './media/image.ts';
import { lockDataDir } from './util/lock.ts';
import { decodeAudio } from './media/audio.ts';
import type { DecodedImage } from './media/types.ts';
import { buildLexicon, type Lexicon } from './understanding/lexicon.ts';
import { understandQuery, type QueryUnderstanding } from './understanding/understand.ts';
import { runSearch, normalise, type SearchRequest, type SearchResponse } from './search/search.ts';

export interface ModelInfo {
  role: string;
  file: string;
  variant: string;
  provider: string;
  providerReason: string;
}

/** Where a shop's own trained heads live; they win over the pack's. */
export const trainedIntentDir = (dataDir: string) => path.join(dataDir, 'models', 'intent');
export const trainedFusionFile = (dataDir: string) => path.join(dataDir, 'models', 'fusion', 'model.onnx');

/**
 * Owns every long-lived piece: models, micro-batchers, the catalog store, the ANN index and the
 * lexicon. HTTP routes and the CLI call its methods; the work itself lives in search/, catalog/,
 * understanding/ and models/.
 */
export class Engine {
  private lexiconCache: Lexicon | null = null;
  private saveTimer: NodeJS.Timeout | null = null;
  private saving: Promise<void> | null = null;
  readonly textQueue: Batcher<string, Float32Array>;
  readonly imageQueue: Batcher<DecodedImage, Float32Array>;
  readonly intentQueue: Batcher<string, Awaited<ReturnType<IntentModel['classify']>>[number]>;
  readonly sttQueue: Batcher<{ samples: Float32Array; language?: string }, { text: string; language: string }>;
  /** The optional NER model (OMNISEARCH_NER_MODEL) and its queue; null when not configured. */
  ner: NerModel | null = null;
  nerQueue: Batcher<string, NerEntity[]> | null = null;
  onStage?: (stage: string, ms: number) => void;

  private constructor(
    readonly config: Config,
    readonly packDir: string,
    readonly manifest: PackManifest,
    readonly clip: ClipModel,
    public intent: IntentModel,
    readonly whisper: WhisperModel,
    public fusion: FusionModel,
    readonly store: CatalogStore,
    readonly index: VectorIndex,
    private readonly unlock: () => void,
    readonly startup: { indexApplied: number; indexRebuilt: boolean; indexMs: number },
  ) {
    const c = config;
    this.textQueue = new Batcher((t) => this.clip.embedTexts(t), batching(c, 'clip-text'));
    this.imageQueue = new Batcher((i) => this.clip.embedImages(i), batching(c, 'clip-vision'));
    this.intentQueue = new Batcher((t) => this.intent.classify(t), batching(c, 'intent'));
    this.sttQueue = new Batcher(
      async ([r]) => {
        const t = await this.whisper.transcribe(r.samples, { language: r.language });
        return [{ text: t.text, language: t.language }];
      },
      // Whisper decodes token by token, one clip at a time: only its queue length is configurable.
      { ...batching(c, 'whisper', { maxQueue: Math.max(4, Math.floor(c.OMNISEARCH_QUEUE_MAX / 8)) }), maxBatch: 1, maxWaitMs: 0 },
    );
  }

  static async open(config: Config, packDir: string): Promise<Engine> {
    const t0 = performance.now();
    const unlock = lockDataDir(config.dataDir, process.argv.slice(2).join(' ') || 'omnisearch');
    try {
      return await Engine.openLocked(config, packDir, unlock, t0);
    } catch (err) {
      unlock();
      throw err;
    }
  }

  private static async openLocked(config: Config, packDir: string, unlock: () => void, t0: number): Promise<Engine> {
    const manifest = readManifest(packDir);
    const rt: RuntimeOptions = runtimeOptions(config);
    const variant = config.OMNISEARCH_MODEL_VARIANT;
    const whisperFile = (key: string) => {
      const r = resolveModelFile(packDir, 'whisper', key, variant, manifest);
      if (r.variant !== r.requested) log.warn({ file: path.basename(r.file), requested: r.requested }, `no ${r.requested} whisper ${key}; using ${r.variant}`);
      return path.relative(r.dir, r.file);
    };
    const [clip, intent, whisper] = await Promise.all([
      ClipModel.load(packDir, manifest, rt, variant),
      IntentModel.loadPreferred(trainedIntentDir(config.dataDir), packDir, manifest, rt, variant),
      WhisperModel.load(path.join(packDir, manifest.models.whisper.dir), { encoder: whisperFile('encoder'), decoder: whisperFile('decoder') }, rt),
    ]);
    const fusion = await FusionModel.load(trainedFusionFile(config.dataDir), clip.dim, rt, path.join(config.dataDir, 'models'));
    const ner = config.OMNISEARCH_NER_MODEL ? await NerModel.load(path.resolve(config.OMNISEARCH_NER_MODEL), rt) : null;
    const store = CatalogStore.open(path.join(config.dataDir, 'catalog.db'));
    const synced = await openSyncedIndex(store, path.join(config.dataDir, 'index'), clip.dim);
    const engine = new Engine(config, packDir, manifest, clip, intent, whisper, fusion, store, synced.index, unlock, {
      indexApplied: synced.applied,
      indexRebuilt: synced.rebuilt,
      indexMs: Math.round(synced.ms),
    });
    if (ner) engine.attachNer(ner);
    await engine.ensureProductVectorSetting();
    await engine.warmUp();
    log.info(
      { packDir, products: store.count(), indexSize: synced.index.size, indexApplied: synced.applied, rebuilt: synced.rebuilt, ms: Math.round(performance.now() - t0) },
      'engine ready',
    );
    return engine;
  }

  private attachNer(ner: NerModel): void {
    const c = this.config;
    this.ner = ner;
    this.nerQueue = new Batcher((t) => ner.entities(t), batching(c, 'ner'));
  }

  /** One tiny run per model so the first real request doesn't pay for graph initialisation. */
  private async warmUp(): Promise<void> {
    const blank: DecodedImage = { data: new Uint8Array(32 * 32 * 3).fill(255), width: 32, height: 32, channels: 3 };
    await Promise.all([
      this.clip.embedTexts(['warm up']),
      this.clip.embedImages([blank]),
      this.intent.classify(['warm up']),
      this.whisper.transcribe(new Float32Array(1600), { maxNewTokens: 2, language: this.whisper.languages.includes('en') ? 'en' : undefined }),
      this.fusion.fuse([{ text: new Float32Array(this.clip.dim), image: null, weights: { text: 1, image: 1 } }]),
      this.ner?.entities(['warm up']),
    ]);
  }

  /** Every model queue, for metrics. */
  queues(): Batcher<never, unknown>[] {
    return [this.textQueue, this.imageQueue, this.intentQueue, this.sttQueue, ...(this.nerQueue ? [this.nerQueue] : [])] as unknown as Batcher<never, unknown>[];
  }

  models(): ModelInfo[] {
    const info = (role: string, s: ModelSession): ModelInfo => ({
      role,
      file: path.relative(process.cwd(), s.file) || s.file,
      variant: s.variant,
      provider: s.provider,
      providerReason: s.providerReason,
    });
    const [clipText, clipVision] = this.clip.sessions();
    const [whEnc, whDec] = this.whisper.sessions();
    return [
      info('clip-text', clipText),
      info('clip-vision', clipVision),
      ...this.intent.sessions().map((s, i) => info(i === 0 ? 'intent' : 'intent-head', s)),
      info('whisper-encoder', whEnc),
      info('whisper-decoder', whDec),
      info('fusion', this.fusion.session),
      ...(this.ner ? [info('ner', this.ner.sessions()[0]!)] : []),
    ];
  }

  // ---- catalog ----------------------------------------------------------------------------

  productVector = (text: Float32Array, image: Float32Array | null): Float32Array => {
    const mode = this.config.OMNISEARCH_PRODUCT_VECTOR;
    if (!image || mode === 'text') return normalise(text);
    if (mode === 'image') return normalise(image);
    const wi = this.config.OMNISEARCH_PRODUCT_IMAGE_WEIGHT;
    return normalise(text.map((t, i) => (1 - wi) * t + wi * image[i]));
  };

  async upsertProducts(products: Product[], onProgress?: (done: number, total: number) => void): Promise<IngestResult> {
    const res = await ingestProducts(
      {
        embedTexts: (t) => this.clip.embedTexts(t),
        embedImages: (i) => this.clip.embedImages(i),
        productVector: this.productVector,
        store: this.store,
        indexUpsert: (id, v, p) => this.index.upsert(id, v, facetsOf(p)),
        images: {
          imageRoot: this.config.imageRoot,
          maxBytes: this.config.OMNISEARCH_MAX_IMAGE_BYTES,
          maxPixels: this.config.OMNISEARCH_MAX_IMAGE_PIXELS,
          allowPrivateUrls: this.config.OMNISEARCH_ALLOW_PRIVATE_IMAGE_URLS,
        },
      },
      products,
      { batchSize: this.config.OMNISEARCH_INGEST_BATCH, onProgress },
    );
    if (res.upserted.length > 0) this.catalogChanged();
    return res;
  }

  deleteProduct(id: string): boolean {
    const { deleted } = this.store.delete([id]);
    if (deleted.length === 0) return false;
    this.index.remove(id);
    this.catalogChanged();
    return true;
  }

  private catalogChanged(): void {
    this.lexiconCache = null;
    this.scheduleSave();
  }

  /**
   * The store is the durable truth (acknowledged writes are committed in SQLite WAL); the index
   * file is a cache saved shortly after writes and caught up from the store's change log at start.
   */
  private scheduleSave(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      void this.saveIndex().catch((err) => log.error({ err }, 'index save failed; it will be caught up from the store at start'));
    }, 2000);
    this.saveTimer.unref();
  }

  async saveIndex(): Promise<void> {
    while (this.saving) await this.saving;
    this.saving = this.index.save(this.store.lastSeq()).finally(() => (this.saving = null));
    await this.saving;
  }

  /** When OMNISEARCH_PRODUCT_VECTOR changes, product vectors are recomputed from the stored embeddings. */
  private async ensureProductVectorSetting(): Promise<void> {
    const file = path.join(this.config.dataDir, 'product-vector.json');
    const want = JSON.stringify({ mode: this.config.OMNISEARCH_PRODUCT_VECTOR, imageWeight: this.config.OMNISEARCH_PRODUCT_IMAGE_WEIGHT });
    const have = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
    if (have === want) return;
    if (have !== null && this.store.count() > 0) {
      log.info({ from: have, to: want }, 'product vector setting changed; recomputing product vectors');
      let n = 0;
      for (const e of this.store.allEmbeddings()) {
        const v = this.productVector(e.text, e.image);
        this.store.setVector(e.id, v);
        this.index.upsert(e.id, v, e.facets);
        n++;
      }
      await this.saveIndex();
      log.info({ products: n }, 'product vectors recomputed');
    }
    fs.writeFileSync(file, want);
  }

  lexicon(): Lexicon {
    this.lexiconCache ??= buildLexicon(this.store.facets());
    return this.lexiconCache;
  }

  // ---- queries ----------------------------------------------------------------------------

  understand(text: string): Promise<QueryUnderstanding> {
    const nerQueue = this.nerQueue;
    return understandQuery(text, {
      classify: (t) => this.intentQueue.run(t),
      lexicon: () => this.lexicon(),
      // NER is optional: if it fails (or its queue is full) the lexicon's reading still stands.
      entities: nerQueue
        ? (t) => nerQueue.run(t).catch((err: unknown) => (log.warn({ err }, 'NER failed; slots from the lexicon only'), []))
        : undefined,
    });
  }

  async transcribe(bytes: Uint8Array, language?: string): Promise<{ text: string; language: string | null; durationMs: number }> {
    const audio = await decodeAudio(bytes, { maxBytes: this.config.OMNISEARCH_MAX_AUDIO_BYTES, maxSeconds: this.config.OMNISEARCH_MAX_AUDIO_SECONDS });
    if (audio.silent) return { text: '', language: null, durationMs: Math.round(audio.durationMs) };
    const r = await this.sttQueue.run({ samples: audio.samples, language });
    return { text: r.text.trim(), language: r.language, durationMs: Math.round(audio.durationMs) };
  }

  search(req: SearchRequest): Promise<SearchResponse> {
    const c = this.config;
    return runSearch(req, {
      decodeImage: (b) => decodeImage(b, { maxBytes: c.OMNISEARCH_MAX_IMAGE_BYTES, maxPixels: c.OMNISEARCH_MAX_IMAGE_PIXELS }),
      decodeAudio: (b) => decodeAudio(b, { maxBytes: c.OMNISEARCH_MAX_AUDIO_BYTES, maxSeconds: c.OMNISEARCH_MAX_AUDIO_SECONDS }),
      transcribe: (samples, language) => this.sttQueue.run({ samples, language }),
      understand: (text) => this.understand(text),
      embedText: (text) => this.textQueue.run(text),
      embedImage: (img) => this.imageQueue.run(img),
      fuse: async (parts) => (await this.fusion.fuse([parts]))[0],
      annSearch: (v, k, o) => this.index.search(v, k, o),
      lexicalSearch: (text, o) => this.store.lexicalSearch(text, o),
      hydrate: (ids) => this.store.getMany(ids),
      embeddings: (id) => this.store.embeddings(id),
      englishOnlyText: !c.OMNISEARCH_CLIP_MULTILINGUAL,
      onStage: this.onStage,
    });
  }

  // ---- lifecycle --------------------------------------------------------------------------

  /** Picks up newly trained heads (train-intent, train-fusion) without a restart. */
  async reloadModels(): Promise<{ intent: { labels: string[]; source: string }; fusion: { trained: boolean } }> {
    const intent = await this.reloadIntent();
    const rt: RuntimeOptions = runtimeOptions(this.config);
    const old = this.fusion;
    this.fusion = await FusionModel.load(trainedFusionFile(this.config.dataDir), this.clip.dim, rt, path.join(this.config.dataDir, 'models'));
    await old.release();
    return { intent, fusion: { trained: this.fusion.trained } };
  }

  async reloadIntent(): Promise<{ labels: string[]; source: string }> {
    const rt: RuntimeOptions = runtimeOptions(this.config);
    const next = await IntentModel.loadPreferred(trainedIntentDir(this.config.dataDir), this.packDir, this.manifest, rt, this.config.OMNISEARCH_MODEL_VARIANT);
    await next.classify(['warm up']);
    const old = this.intent;
    this.intent = next; // the batcher reads `this.intent` per batch, so new batches use the new model
    await old.release(); // after the batch still running on it, if any
    log.info({ labels: next.labels, source: next.source }, 'intent model reloaded');
    return { labels: next.labels, source: next.source };
  }

  async close(): Promise<void> {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    await this.saveIndex();
    this.store.close();
    this.unlock();
  }
}

/** How models are run: provider, threads, and the length-split cost for text batches. */
export function runtimeOptions(c: Config): RuntimeOptions {
  return { device: c.OMNISEARCH_DEVICE, threads: c.OMNISEARCH_THREADS, ...(c.OMNISEARCH_PAD_SPLIT_TOKENS !== undefined ? { padSplitTokens: c.OMNISEARCH_PAD_SPLIT_TOKENS } : {}) };
}

/** A model's batching: the global settings, then its defaults, then its OMNISEARCH_BATCHING overrides. */
export function batching(c: Config, name: keyof Config['OMNISEARCH_BATCHING'], defaults: Partial<BatcherOptions> = {}): BatcherOptions {
  return { name, maxBatch: c.OMNISEARCH_BATCH_MAX, maxWaitMs: c.OMNISEARCH_BATCH_WAIT_MS, maxQueue: c.OMNISEARCH_QUEUE_MAX, ...defaults, ...c.OMNISEARCH_BATCHING[name] };
}

export function facetsOf(p: Product): ProductFacets {
  return { category: p.category, brand: p.brand, color: p.color, price: p.price, currency: p.currency };
}

export type { SearchFilters };
