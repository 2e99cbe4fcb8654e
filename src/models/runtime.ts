import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';
import { log } from '../log.ts';

export type Device = 'auto' | 'cuda' | 'cpu';

export interface RuntimeOptions {
  device: Device;
  /** onnxruntime intra-op threads; 0 = onnxruntime's default. */
  threads: number;
  /** Padded tokens one extra run is worth when splitting text batches by length (text-inputs.ts); unset = by provider. */
  padSplitTokens?: number;
}

/** A loaded ONNX model plus what /readyz reports about it. */
export interface ModelSession {
  session: ort.InferenceSession;
  file: string;
  /** `fp32`, `fp16` or `quantized`, read from the file name the way Hugging Face exports name them. */
  variant: string;
  provider: 'cuda' | 'cpu';
  /** Why this provider: shown in /readyz so a CPU fallback on a GPU host is never silent. */
  providerReason: string;
  inputNames: readonly string[];
  outputNames: readonly string[];
}

export function variantOf(file: string): string {
  const base = path.basename(file, '.onnx');
  if (base.endsWith('_fp16')) return 'fp16';
  if (base.endsWith('_quantized') || base.endsWith('_int8') || base.endsWith('_q8')) return 'quantized';
  return 'fp32';
}

/** Whether this onnxruntime-node install carries the CUDA provider binaries (ONNXRUNTIME_NODE_INSTALL=cuda12). */
export function cudaAvailability(): { ok: boolean; reason: string } {
  const backends = ort.listSupportedBackends?.() ?? [];
  const cuda = backends.find((b) => b.name === 'cuda');
  if (!cuda) return { ok: false, reason: 'this onnxruntime-node build has no CUDA provider' };
  if (!cuda.bundled) {
    // The CUDA provider library is downloaded by onnxruntime-node's install script, not shipped in the npm tarball.
    const dir = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node'));
    const found = findFile(path.join(dir, '..', 'bin'), 'libonnxruntime_providers_cuda.so');
    if (!found) {
      return {
        ok: false,
        reason: 'CUDA provider binaries not installed (reinstall with ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci)',
      };
    }
  }
  return { ok: true, reason: 'CUDA provider present' };
}

function findFile(dir: string, name: string): boolean {
  if (!fs.existsSync(dir)) return false;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() ? findFile(p, name) : e.name === name) return true;
  }
  return false;
}

/**
 * CUDA options chosen deliberately: the arena grows by what is requested (not powers of two) so
 * several models share one GPU, cuDNN searches convolution algorithms once (Whisper's and CLIP's
 * conv stems), and copies run on their own stream.
 */
const cudaProvider = {
  name: 'cuda',
  arenaExtendStrategy: 'kSameAsRequested',
  cudnnConvAlgoSearch: 'EXHAUSTIVE',
  doCopyInDefaultStream: false,
} as unknown as ort.InferenceSession.ExecutionProviderConfig;

/** The one place sessions are created: provider order, threads, graph optimisation. */
export async function createSession(file: string, opts: RuntimeOptions): Promise<ModelSession> {
  if (!fs.existsSync(file)) throw new Error(`model file not found: ${file}`);
  const base: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    // onnxruntime-node rejects an explicit undefined: leave the key out to get its default.
    ...(opts.threads > 0 ? { intraOpNumThreads: opts.threads } : {}),
    interOpNumThreads: 1,
    executionMode: 'sequential',
  };
  let provider: 'cuda' | 'cpu' = 'cpu';
  let providerReason = opts.device === 'cpu' ? 'OMNISEARCH_DEVICE=cpu' : '';
  let session: ort.InferenceSession | undefined;
  if (opts.device !== 'cpu') {
    const cuda = cudaAvailability();
    if (cuda.ok) {
      try {
        session = await ort.InferenceSession.create(file, { ...base, executionProviders: [cudaProvider, 'cpu'] });
        provider = 'cuda';
        providerReason = `OMNISEARCH_DEVICE=${opts.device}; CUDA provider loaded`;
      } catch (err) {
        providerReason = `CUDA session failed: ${(err as Error).message.split('\n')[0]}`;
        if (opts.device === 'cuda') throw new Error(`OMNISEARCH_DEVICE=cuda but ${providerReason}`);
      }
    } else {
      providerReason = cuda.reason;
      if (opts.device === 'cuda') throw new Error(`OMNISEARCH_DEVICE=cuda but ${cuda.reason}`);
    }
    if (!session) log.warn({ file: path.basename(file), reason: providerReason }, 'falling back to CPU execution provider');
  }
  session ??= await ort.InferenceSession.create(file, { ...base, executionProviders: ['cpu'] });
  return {
    session,
    file,
    variant: variantOf(file),
    provider,
    providerReason,
    inputNames: session.inputNames,
    outputNames: session.outputNames,
  };
}

export { ort };
