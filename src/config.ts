import path from 'node:path';
import { z } from 'zod';

/** Booleans from env: only explicit words, so a typo fails loudly instead of meaning "false". */
const envBool = z.enum(['1', '0', 'true', 'false', 'yes', 'no']).transform((v) => ['1', 'true', 'yes'].includes(v));
const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(def);

const schema = z.object({
  PORT: int(8080, 0, 65535),
  HOST: z.string().min(1).default('0.0.0.0'),
  OMNISEARCH_DATA_DIR: z.string().min(1).default('./data'),
  /** `real` (pulled from the hub), `tiny`/`full` (built here, random weights) or a folder holding a pack. */
  OMNISEARCH_MODELS: z.string().min(1).default('real'),
  /** Where `models pull` / `models build` put packs. */
  OMNISEARCH_MODELS_DIR: z.string().min(1).default('./models'),
  /**
   * Optional token-classification (NER) model folder (HF BertForTokenClassification export:
   * config.json id2label with BIO slot tags, tokenizer files, onnx/model.onnx). When set, its
   * entities fill query slots the catalog lexicon left empty; unset = lexicons only.
   */
  OMNISEARCH_NER_MODEL: z.string().min(1).optional(),
  OMNISEARCH_DEVICE: z.enum(['auto', 'cuda', 'cpu']).default('auto'),
  /** Which export of each model to load: fp32, fp16 (GPUs) or quantized (int8, CPUs); a missing variant falls back to fp32 with a warning. */
  OMNISEARCH_MODEL_VARIANT: z.enum(['fp32', 'fp16', 'quantized']).default('fp32'),
  /** onnxruntime intra-op threads; 0 lets onnxruntime decide (one per physical core). */
  OMNISEARCH_THREADS: int(0, 0, 256),
  /** Local product image paths must resolve inside this folder. Defaults to `<data dir>/images`. */
  OMNISEARCH_IMAGE_ROOT: z.string().min(1).optional(),
  OMNISEARCH_INGEST_BATCH: int(16, 1, 1024),
  /** Micro-batching of concurrent requests per model: largest batch (32: best text throughput in bench:batching), and how long the first item waits. */
  OMNISEARCH_BATCH_MAX: int(32, 1, 256),
  OMNISEARCH_BATCH_WAIT_MS: int(2, 0, 1000),
  /** Requests allowed to wait per model; beyond it the answer is 503 with Retry-After. */
  OMNISEARCH_QUEUE_MAX: int(256, 1, 100_000),
  /**
   * Text batches are split into runs of similar token count when that saves more than this many
   * padded tokens per extra run; 0 = always one run. Unset: 10 on CPU, 0 on CUDA.
   */
  OMNISEARCH_PAD_SPLIT_TOKENS: z.coerce.number().int().min(0).max(100_000).optional(),
  /**
   * Per-model overrides of the three above, as JSON keyed by model (clip-text, clip-vision,
   * intent, whisper, ner), e.g. {"clip-text":{"maxBatch":32,"maxWaitMs":4}}.
   */
  OMNISEARCH_BATCHING: z
    .string()
    .default('{}')
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON' });
        return z.NEVER;
      }
    })
    .pipe(
      z.partialRecord(
        z.enum(['clip-text', 'clip-vision', 'intent', 'whisper', 'ner']),
        z.object({ maxBatch: z.number().int().min(1).max(256).optional(), maxWaitMs: z.number().int().min(0).max(1000).optional(), maxQueue: z.number().int().min(1).max(100_000).optional() }).strict(),
      ),
    ),
  /** Which stored embedding the ANN index holds per product: image, text, or a weighted mix. */
  OMNISEARCH_PRODUCT_VECTOR: z.enum(['image', 'text', 'mix']).default('mix'),
  /** Image share of the product vector when OMNISEARCH_PRODUCT_VECTOR=mix. */
  OMNISEARCH_PRODUCT_IMAGE_WEIGHT: z.coerce.number().min(0).max(1).default(0.5),
  /**
   * Whether the CLIP text encoder reads languages other than English (Chinese-CLIP, multilingual
   * CLIP). The default ViT-B/32 does not, so Chinese queries are embedded as English slot concepts.
   */
  OMNISEARCH_CLIP_MULTILINGUAL: envBool.default(false),
  /** Ingest the bundled demo catalog when the store is empty at start. */
  OMNISEARCH_DEMO: envBool.default(true),
  OMNISEARCH_MAX_JSON_BYTES: int(5 * 1024 * 1024, 1024),
  OMNISEARCH_MAX_IMAGE_BYTES: int(10 * 1024 * 1024, 1024),
  OMNISEARCH_MAX_IMAGE_PIXELS: int(40_000_000, 1),
  OMNISEARCH_MAX_AUDIO_BYTES: int(10 * 1024 * 1024, 1024),
  OMNISEARCH_MAX_AUDIO_SECONDS: z.coerce.number().positive().max(600).default(30),
  /** Remote product image fetches at ingest: private/loopback targets are refused unless this is set. */
  OMNISEARCH_ALLOW_PRIVATE_IMAGE_URLS: envBool.default(false),
  /** API keys, comma-separated. None configured = dev mode: everything open, loud warning at start. */
  OMNISEARCH_ADMIN_KEYS: z.string().default(''),
  OMNISEARCH_SEARCH_KEYS: z.string().default(''),
  /** A file of keys, one `admin:<key>` or `search:<key>` per line (# comments allowed). */
  OMNISEARCH_KEY_FILE: z.string().optional(),
  /** Token bucket per API key (or per client IP without one): sustained requests/s and burst. 0 = off. */
  OMNISEARCH_RATE_LIMIT_RPS: z.coerce.number().min(0).default(50),
  OMNISEARCH_RATE_LIMIT_BURST: int(100, 1),
  /** Whether to take the client IP from X-Forwarded-For (only behind a proxy you run). */
  OMNISEARCH_TRUST_PROXY: envBool.default(false),
  OMNISEARCH_REQUEST_TIMEOUT_MS: int(30_000, 100),
  OMNISEARCH_HF_ENDPOINT: z.string().url().default('https://huggingface.co'),
});

export type Config = z.infer<typeof schema> & {
  dataDir: string;
  imageRoot: string;
  modelsDir: string;
};

/** Parse env into config; a bad value throws one message naming every offending variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}=${JSON.stringify(env[String(i.path[0])])}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  const dataDir = path.resolve(c.OMNISEARCH_DATA_DIR);
  return {
    ...c,
    dataDir,
    imageRoot: path.resolve(c.OMNISEARCH_IMAGE_ROOT ?? path.join(dataDir, 'images')),
    modelsDir: path.resolve(c.OMNISEARCH_MODELS_DIR),
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}
