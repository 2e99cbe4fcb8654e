/**
 * CLIP text and image embeddings in one space. Tokenization and image preprocessing come from
 * @huggingface/transformers driven by the pack's tokenizer.json / preprocessor_config.json, so a
 * pulled real model behaves exactly as it does in transformers.js. Embeddings are returned
 * L2-normalised (the exports give projected, unnormalised embeds).
 */
import fs from 'node:fs';
import path from 'node:path';
import { RawImage, type PreTrainedTokenizer, type Processor } from '@huggingface/transformers';
import type { DecodedImage } from '../media/types.ts';
import { loadImageProcessor, loadTokenizer } from './hf.ts';
import type { PackManifest, Variant } from './registry.ts';
import { resolveModelFile } from './registry.ts';
import { createSession, ort, type ModelSession, type RuntimeOptions } from './runtime.ts';
import { defaultRunCostTokens, encodeTexts, l2normalize, rows, runByLength } from './text-inputs.ts';
import { log } from '../log.ts';

export class ClipModel {
  private constructor(
    private readonly text: ModelSession,
    private readonly vision: ModelSession,
    private readonly tokenizer: PreTrainedTokenizer,
    private readonly processor: Processor,
    readonly dim: number,
    readonly maxLength: number,
    private readonly runCostTokens: number,
  ) {}

  static async load(packDir: string, manifest: PackManifest, rt: RuntimeOptions, variant: Variant = 'fp32'): Promise<ClipModel> {
    const textFile = resolveModelFile(packDir, 'clip', 'text', variant, manifest);
    const visionFile = resolveModelFile(packDir, 'clip', 'vision', variant, manifest);
    for (const r of [textFile, visionFile]) {
      if (r.variant !== r.requested) log.warn({ file: path.basename(r.file), requested: r.requested }, `no ${r.requested} CLIP file; using ${r.variant}`);
    }
    const dir = textFile.dir;
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { projection_dim?: number };
    const [text, vision, tokenizer, processor] = await Promise.all([
      createSession(textFile.file, rt),
      createSession(visionFile.file, rt),
      loadTokenizer(dir),
      loadImageProcessor(dir),
    ]);
    const dim = config.projection_dim ?? 512;
    // CLIP's position table has 77 entries; tokenizer_config's model_max_length says so.
    const maxLength = Math.min(Number(tokenizer.model_max_length) || 77, 77);
    return new ClipModel(text, vision, tokenizer, processor, dim, maxLength, defaultRunCostTokens(text, rt.padSplitTokens));
  }

  /** Unit-norm text embeddings, one per input. */
  async embedTexts(texts: string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    // Pad to the longest text of each length group, not to 77: CLIP's causal mask and end-of-text
    // pooling ignore trailing padding, so embeddings equal max_length padding at a fraction of the cost.
    const enc = encodeTexts(this.tokenizer, texts, this.maxLength);
    return runByLength(this.text, enc, this.runCostTokens, async (feeds) => {
      const out = await this.text.session.run(feeds, ['text_embeds']);
      return this.normalised(out.text_embeds!);
    });
  }

  /** pixel_values [N, 3, H, W] float32 through the pack's CLIPImageProcessor (resize, crop, rescale, normalise). */
  async preprocessImages(images: DecodedImage[]): Promise<ort.Tensor> {
    const raws = images.map((im) => {
      if (im.data.length !== im.width * im.height * 3) throw new Error(`image data is ${im.data.length} bytes, expected ${im.width}x${im.height}x3`);
      return new RawImage(new Uint8ClampedArray(im.data.buffer, im.data.byteOffset, im.data.length), im.width, im.height, 3);
    });
    const { pixel_values } = (await this.processor(raws)) as { pixel_values: { data: Float32Array; dims: number[] } };
    return new ort.Tensor('float32', pixel_values.data, pixel_values.dims);
  }

  /** Unit-norm image embeddings, one per input. */
  async embedImages(images: DecodedImage[]): Promise<Float32Array[]> {
    if (images.length === 0) return [];
    const pixel_values = await this.preprocessImages(images);
    const out = await this.vision.session.run({ pixel_values }, ['image_embeds']);
    return this.normalised(out.image_embeds!);
  }

  sessions(): ModelSession[] {
    return [this.text, this.vision];
  }

  private normalised(t: ort.Tensor): Float32Array[] {
    const r = rows(t);
    if (r[0] && r[0].length !== this.dim) throw new Error(`CLIP export gives ${r[0].length}-d embeds but config.json says ${this.dim}`);
    return r.map(l2normalize);
  }
}
