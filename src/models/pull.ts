import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import cliProgress from 'cli-progress';
import { writeFileAtomic } from '../util/atomic.ts';

/** What `models pull` fetches: Hugging Face repos in the layout transformers.js uses. */
export interface RemoteModel {
  /** Folder inside the pack. */
  dir: string;
  repo: string;
  revision: string;
  files: string[];
  /** Manifest entry: role -> file inside `dir`. */
  roles: Record<string, string>;
}

const CONFIGS = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];

export const REAL_MODELS: RemoteModel[] = [
  {
    dir: 'clip',
    repo: 'Xenova/clip-vit-base-patch32',
    revision: 'main',
    files: [...CONFIGS, 'preprocessor_config.json', 'onnx/text_model.onnx', 'onnx/vision_model.onnx'],
    roles: { text: 'onnx/text_model.onnx', vision: 'onnx/vision_model.onnx' },
  },
  {
    dir: 'whisper',
    repo: 'Xenova/whisper-base',
    revision: 'main',
    files: [...CONFIGS, 'generation_config.json', 'preprocessor_config.json', 'onnx/encoder_model.onnx', 'onnx/decoder_model_merged.onnx'],
    roles: { encoder: 'onnx/encoder_model.onnx', decoder: 'onnx/decoder_model_merged.onnx' },
  },
  {
    // Multilingual (English + Chinese) BERT sentence encoder: the frozen encoder the intent head is trained on.
    dir: 'bert',
    repo: 'Xenova/paraphrase-multilingual-MiniLM-L12-v2',
    revision: 'main',
    files: [...CONFIGS, 'onnx/model.onnx'],
    roles: { model: 'onnx/model.onnx' },
  },
];

export class OfflineError extends Error {
  override name = 'OfflineError';
}

export interface PullOptions {
  endpoint: string;
  packDir: string;
  models?: RemoteModel[];
  /** Show a progress bar on stderr (CLI); tests pass false. */
  progress?: boolean;
  fetchImpl?: typeof fetch;
}

const offlineHelp = (endpoint: string, why: string) =>
  `cannot download models from ${endpoint} (${why}).\n` +
  `Ways forward:\n` +
  `  1. connect this machine to the internet and run: npm run cli -- models pull\n` +
  `  2. serve offline on the project's own random-weight models: OMNISEARCH_MODELS=tiny npm start\n` +
  `  3. copy a pulled pack here and point at it: OMNISEARCH_MODELS=/path/to/pack npm start`;

/**
 * Downloads every file of every model into `packDir`, resuming `.part` files with HTTP Range,
 * checking sizes against the server and sha256 against the hub's LFS etag when it gives one.
 * A file is renamed into place only when complete, so an interrupted pull never leaves a
 * truncated model that looks whole.
 */
export async function pullModels(opts: PullOptions): Promise<void> {
  const models = opts.models ?? REAL_MODELS;
  const doFetch = opts.fetchImpl ?? fetch;
  const bars = opts.progress
    ? new cliProgress.MultiBar(
        { format: ' {bar} {percentage}% | {file} | {value_mb}/{total_mb} MB', hideCursor: true, clearOnComplete: false },
        cliProgress.Presets.shades_classic,
      )
    : null;
  try {
    for (const m of models) {
      for (const file of m.files) {
        const dest = path.join(opts.packDir, m.dir, file);
        if (fs.existsSync(dest)) continue;
        const url = `${opts.endpoint.replace(/\/$/, '')}/${m.repo}/resolve/${m.revision}/${file}`;
        await downloadFile(doFetch, url, dest, `${m.dir}/${file}`, opts.endpoint, bars);
      }
    }
  } finally {
    bars?.stop();
  }
  const manifest = {
    name: path.basename(opts.packDir),
    source: 'pulled',
    preset: null,
    seed: null,
    createdAt: new Date().toISOString(),
    models: Object.fromEntries(models.map((m) => [m.dir, { dir: m.dir, repo: m.repo, files: m.roles }])),
  };
  writeFileAtomic(path.join(opts.packDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
}

async function downloadFile(
  doFetch: typeof fetch,
  url: string,
  dest: string,
  label: string,
  endpoint: string,
  bars: cliProgress.MultiBar | null,
): Promise<void> {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const part = `${dest}.part`;
  let have = fs.existsSync(part) ? fs.statSync(part).size : 0;
  let res: Response;
  try {
    res = await doFetch(url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {}, redirect: 'follow' });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new OfflineError(offlineHelp(endpoint, cause?.code ?? cause?.message ?? (err as Error).message));
  }
  if (res.status === 416 && have > 0) {
    // The part file already holds everything the server has.
    fs.renameSync(part, dest);
    return;
  }
  if (res.status !== 200 && res.status !== 206) {
    throw new Error(`download of ${url} failed: HTTP ${res.status} ${res.statusText}`);
  }
  if (res.status === 200) have = 0; // server ignored Range: start over
  const total = res.status === 206 ? Number(res.headers.get('content-range')?.split('/')[1]) : Number(res.headers.get('content-length'));
  const expectedSha = [res.headers.get('x-linked-etag'), res.headers.get('etag')]
    .map((e) => e?.replace(/^W\//, '').replace(/"/g, ''))
    .find((e) => e && /^[0-9a-f]{64}$/.test(e));

  const bar = bars?.create(Number.isFinite(total) ? total : 0, have, { file: label, value_mb: mb(have), total_mb: mb(total) });
  const out = fs.createWriteStream(part, { flags: have > 0 ? 'a' : 'w' });
  let got = have;
  if (!res.body) throw new Error(`download of ${url} returned no body`);
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      if (!out.write(chunk)) await once(out, 'drain');
      got += chunk.length;
      bar?.update(got, { value_mb: mb(got) });
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
  if (Number.isFinite(total) && total > 0 && got !== total) {
    throw new Error(`download of ${label} incomplete: ${got} of ${total} bytes (run the pull again to resume)`);
  }
  if (expectedSha) {
    const sha = await sha256File(part);
    if (sha !== expectedSha) {
      fs.rmSync(part);
      throw new Error(`checksum mismatch for ${label}: expected sha256 ${expectedSha}, got ${sha}; the partial file was removed, pull again`);
    }
  }
  fs.renameSync(part, dest);
}

const mb = (n: number) => (Number.isFinite(n) ? (n / 1e6).toFixed(1) : '?');

async function sha256File(file: string): Promise<string> {
  const h = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}
