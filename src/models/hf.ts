import fs from 'node:fs';
import path from 'node:path';
import { env, AutoTokenizer, AutoProcessor, AutoFeatureExtractor } from '@huggingface/transformers';
import type { PreTrainedTokenizer, Processor, FeatureExtractor } from '@huggingface/transformers';

/**
 * @huggingface/transformers supplies tokenizers, CLIP image processing and Whisper feature
 * extraction. It only ever reads the pack folders we hand it: remote loading is off, so a
 * missing file fails here instead of reaching for the hub.
 */
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = '/';

function absDir(dir: string, required: string[]): string {
  const abs = path.resolve(dir);
  for (const f of required) {
    if (!fs.existsSync(path.join(abs, f))) throw new Error(`model pack ${abs} is missing ${f}`);
  }
  return abs;
}

export function loadTokenizer(dir: string): Promise<PreTrainedTokenizer> {
  return AutoTokenizer.from_pretrained(absDir(dir, ['tokenizer.json', 'tokenizer_config.json']), { local_files_only: true });
}

/** CLIP's image processor (resize, centre crop, rescale, normalise) driven by preprocessor_config.json. */
export function loadImageProcessor(dir: string): Promise<Processor> {
  return AutoProcessor.from_pretrained(absDir(dir, ['preprocessor_config.json']), { local_files_only: true });
}

/** Whisper's log-mel feature extractor driven by preprocessor_config.json. */
export function loadFeatureExtractor(dir: string): Promise<FeatureExtractor> {
  return AutoFeatureExtractor.from_pretrained(absDir(dir, ['preprocessor_config.json']), { local_files_only: true });
}
