/**
 * The project's own small ONNX graphs: the trained intent head and the fusion head. Each graph
 * computes exactly what its TypeScript twin computes (`headLogits` in intent-head.ts,
 * `fusionForward` in fusion.ts); the tests hold the two to 1e-5.
 *
 * intent head: features float32 [batch_size, inputDim] -> logits float32 [batch_size, num_labels]
 *   (the server applies softmax itself, as it does for the BERT classifier's logits).
 * fusion head: text_embeds, image_embeds float32 [batch_size, D], presence, part_weights float32
 *   [batch_size, 2] -> query_embeds float32 [batch_size, D], L2-normalised.
 */
import { Graph } from '../models/onnx/graph.ts';
import type { HeadWeights } from './intent-head.ts';
import { FUSION_EPS, type FusionWeights } from './fusion.ts';

export const INTENT_HEAD_IO = { input: 'features', output: 'logits' } as const;
export const FUSION_HEAD_IO = {
  inputs: ['text_embeds', 'image_embeds', 'presence', 'part_weights'],
  output: 'query_embeds',
} as const;

const GELU_C = Math.sqrt(2 / Math.PI);

/** x @ W + b with W [nIn, nOut] stored row-major, as the TypeScript heads store it. */
function dense(g: Graph, x: string, name: string, w: Float32Array, b: Float32Array, nIn: number, nOut: number): string {
  const W = g.weight(`${name}.weight`, [nIn, nOut], w);
  const B = g.weight(`${name}.bias`, [nOut], b);
  return g.op('Add', [g.op('MatMul', [x, W]), B]);
}

/** tanh-approximate GELU from plain ops (opset 17 has no Gelu): 0.5 x (1 + tanh(c (x + 0.044715 x^3))). */
function gelu(g: Graph, x: string): string {
  const x3 = g.op('Mul', [x, g.op('Mul', [x, x])]);
  const inner = g.op('Mul', [g.op('Add', [x, g.op('Mul', [x3, g.constFloat(0.044715)])]), g.constFloat(GELU_C)]);
  const t = g.op('Tanh', [inner]);
  return g.op('Mul', [g.op('Mul', [x, g.constFloat(0.5)]), g.op('Add', [t, g.constFloat(1)])]);
}

export function intentHeadToOnnx(head: HeadWeights): Uint8Array {
  const k = head.labels.length;
  const g = new Graph('intent_head');
  const x = g.input(INTENT_HEAD_IO.input, 'float32', ['batch_size', head.inputDim]);
  let z: string;
  if (head.hidden === 0) {
    z = dense(g, x, 'classifier', head.w1, head.b1, head.inputDim, k);
  } else {
    const pre = dense(g, x, 'dense', head.w1, head.b1, head.inputDim, head.hidden);
    const h = head.activation === 'tanh' ? g.op('Tanh', [pre]) : gelu(g, pre);
    z = dense(g, h, 'classifier', head.w2!, head.b2!, head.hidden, k);
  }
  g.output(INTENT_HEAD_IO.output, 'float32', ['batch_size', k], z);
  return g.toBytes({ docString: `omnisearch intent head: ${head.hidden ? `${head.hidden} ${head.activation} hidden` : 'linear'}; labels ${head.labels.join(',')}` });
}

/** Row-wise x / max(|x|_2, eps): a zero row stays zero instead of becoming NaN. */
function l2normalize(g: Graph, x: string, eps: string, axes: string): string {
  const sq = g.op('ReduceSum', [g.op('Mul', [x, x]), axes], { keepdims: 1 });
  return g.op('Div', [x, g.op('Max', [g.op('Sqrt', [sq]), eps])]);
}

export function fusionHeadToOnnx(weights: FusionWeights): Uint8Array {
  const D = weights.dim;
  const g = new Graph('fusion_head');
  const [textName, imageName, presenceName, partWeightsName] = FUSION_HEAD_IO.inputs;
  const text = g.input(textName, 'float32', ['batch_size', D]);
  const image = g.input(imageName, 'float32', ['batch_size', D]);
  const presence = g.input(presenceName, 'float32', ['batch_size', 2]);
  const partWeights = g.input(partWeightsName, 'float32', ['batch_size', 2]);
  const eps = g.constFloat(FUSION_EPS);
  const axis1 = g.constInt64([1]);

  // Per-row coefficient of each part: presence * user weight * learned gain -> [batch_size, 2].
  const gains = g.weight('fusion.gains', [2], Float32Array.of(weights.text.gain, weights.image.gain));
  const coef = g.op('Mul', [g.op('Mul', [presence, partWeights]), gains]);
  const column = (c: number): string => g.op('Slice', [coef, g.constInt64([c]), g.constInt64([c + 1]), axis1]);

  const part = (x: string, scale: Float32Array, c: number, name: string): string => {
    const mapped = g.op('Mul', [l2normalize(g, x, eps, axis1), g.weight(`fusion.${name}.scale`, [D], scale)]);
    return g.op('Mul', [mapped, column(c)]);
  };
  const sum = g.op('Add', [part(text, weights.text.scale, 0, 'text'), part(image, weights.image.scale, 1, 'image')]);
  g.output(FUSION_HEAD_IO.output, 'float32', ['batch_size', D], l2normalize(g, sum, eps, axis1));
  return g.toBytes({ docString: `omnisearch fusion head: diagonal maps, gains text ${weights.text.gain} image ${weights.image.gain}` });
}
