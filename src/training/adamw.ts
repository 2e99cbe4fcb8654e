/**
 * AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization"), the same update as
 * PyTorch's `torch.optim.AdamW`:
 *
 *   p <- p - lr * wd * p                      (decoupled decay, only for params with decay)
 *   m <- b1 * m + (1 - b1) * g
 *   v <- b2 * v + (1 - b2) * g^2
 *   p <- p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 *
 * Parameters live in Float32Array (what the ONNX heads store); the moment estimates are kept
 * in Float64Array so that tiny second moments do not underflow or lose precision over many steps.
 * Biases (and anything else flagged `decay: false`) are not decayed: decaying a bias only pulls
 * the decision boundary towards the origin, it does not regularise capacity.
 */

export interface Param {
  name: string;
  data: Float32Array;
  /** Gradient accumulator, same length as `data`; the trainer fills it, `zeroGrad()` clears it. */
  grad: Float32Array;
  /** Apply decoupled weight decay to this parameter (false for biases and gains). */
  decay: boolean;
}

/** A parameter with a zeroed gradient buffer. */
export function param(name: string, data: Float32Array, opts: { decay?: boolean } = {}): Param {
  return { name, data, grad: new Float32Array(data.length), decay: opts.decay ?? true };
}

export interface AdamWOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

export class AdamW {
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  lr: number;
  /** Number of steps taken (bias correction uses it). */
  t = 0;
  private readonly m: Float64Array[];
  private readonly v: Float64Array[];

  constructor(
    readonly params: Param[],
    opts: AdamWOptions,
  ) {
    this.lr = opts.lr;
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.01;
    const [b1, b2] = this.betas;
    if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1)) throw new Error(`AdamW betas must be in [0, 1), got ${this.betas}`);
    if (!(this.lr >= 0) || !(this.eps > 0) || !(this.weightDecay >= 0)) throw new Error('AdamW needs lr >= 0, eps > 0, weightDecay >= 0');
    this.m = params.map((p) => new Float64Array(p.data.length));
    this.v = params.map((p) => new Float64Array(p.data.length));
  }

  /** One update from the gradients currently in `param.grad`. `lr` overrides the stored rate (schedules). */
  step(lr: number = this.lr): void {
    this.t++;
    const [b1, b2] = this.betas;
    const bc1 = 1 - b1 ** this.t;
    const bc2 = 1 - b2 ** this.t;
    for (let k = 0; k < this.params.length; k++) {
      const { data, grad, decay } = this.params[k]!;
      const m = this.m[k]!;
      const v = this.v[k]!;
      const shrink = decay ? 1 - lr * this.weightDecay : 1;
      for (let i = 0; i < data.length; i++) {
        const g = grad[i]!;
        m[i] = b1 * m[i]! + (1 - b1) * g;
        v[i] = b2 * v[i]! + (1 - b2) * g * g;
        const update = m[i]! / bc1 / (Math.sqrt(v[i]! / bc2) + this.eps);
        data[i] = data[i]! * shrink - lr * update;
      }
    }
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad.fill(0);
  }
}
