import fs from 'node:fs';
import path from 'node:path';
import { fusionHeadToOnnx } from '../training/onnx-heads.ts';
import { identityFusion } from '../training/fusion.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { InFlight } from '../util/in-flight.ts';
import { createSession, ort, type ModelSession, type RuntimeOptions } from './runtime.ts';

export interface FusionParts {
  text: Float32Array | null;
  image: Float32Array | null;
  weights: { text: number; image: number };
}

/**
 * The fusion head: CLIP text and image embeddings + a presence mask + per-request weights ->
 * one L2-normalised query vector, run through onnxruntime like every model. A shop's trained head
 * (`omnisearch train-fusion`) is used when present; otherwise the untrained head, a plain weighted
 * sum of the normalised parts (identity maps, gains 1 and 1), written once into the data dir.
 */
export class FusionModel {
  private readonly inFlight = new InFlight();

  private constructor(
    readonly session: ModelSession,
    readonly dim: number,
    readonly trained: boolean,
  ) {}

  static async load(trainedFile: string, dim: number, rt: RuntimeOptions, defaultDir: string): Promise<FusionModel> {
    if (fs.existsSync(trainedFile)) {
      const ms = await createSession(trainedFile, rt);
      const d = Number(ms.session.inputMetadata?.[0] && 'shape' in ms.session.inputMetadata[0] ? ms.session.inputMetadata[0].shape[1] : dim);
      if (Number.isFinite(d) && d !== dim) throw new Error(`${trainedFile} fuses ${d}-d embeddings but CLIP gives ${dim}; retrain with train-fusion`);
      return new FusionModel(ms, dim, true);
    }
    const file = path.join(defaultDir, `fusion-untrained-${dim}.onnx`);
    if (!fs.existsSync(file)) writeFileAtomic(file, fusionHeadToOnnx(identityFusion(dim)));
    return new FusionModel(await createSession(file, rt), dim, false);
  }

  fuse(batch: FusionParts[]): Promise<Float32Array[]> {
    return this.inFlight.track(() => this.run(batch));
  }

  /** Frees the session (after a reload swapped in a new head) once running calls finish. */
  async release(): Promise<void> {
    await this.inFlight.drained();
    await this.session.session.release();
  }

  private async run(batch: FusionParts[]): Promise<Float32Array[]> {
    const n = batch.length;
    const D = this.dim;
    const text = new Float32Array(n * D);
    const image = new Float32Array(n * D);
    const presence = new Float32Array(n * 2);
    const weights = new Float32Array(n * 2);
    batch.forEach((p, i) => {
      if (p.text) text.set(p.text, i * D);
      if (p.image) image.set(p.image, i * D);
      presence[i * 2] = p.text ? 1 : 0;
      presence[i * 2 + 1] = p.image ? 1 : 0;
      weights[i * 2] = p.weights.text;
      weights[i * 2 + 1] = p.weights.image;
    });
    const out = await this.session.session.run({
      text_embeds: new ort.Tensor('float32', text, [n, D]),
      image_embeds: new ort.Tensor('float32', image, [n, D]),
      presence: new ort.Tensor('float32', presence, [n, 2]),
      part_weights: new ort.Tensor('float32', weights, [n, 2]),
    });
    const q = out.query_embeds.data as Float32Array;
    return Array.from({ length: n }, (_, i) => q.slice(i * D, (i + 1) * D));
  }
}
