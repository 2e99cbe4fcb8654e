/**
 * A small ONNX graph builder over `onnx-proto` (protobufjs classes generated from onnx.proto).
 *
 * Usage:
 *   const g = new Graph('clip_text', { floatType: 'float32' });
 *   const ids = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
 *   const w = g.weight('emb.weight', [vocab, dim], rng.normals(vocab * dim));   // model float type
 *   const [h] = g.node('Gather', [w, ids]);                                    // auto-named output
 *   g.output('last_hidden_state', 'float32', ['batch_size', 'sequence_length', dim], h);
 *   fs.writeFileSync(file, g.toBytes());
 *
 * - Dims: a number is a fixed size, a string is a named dynamic axis (dim_param), as the
 *   Hugging Face / Optimum exports name them.
 * - Initializers are stored as raw_data, little-endian. `weight()` stores in the graph's float type
 *   (float16 graphs get their weights converted on write), `initializer()` stores exactly the
 *   dtype given.
 * - `subgraph()` makes a branch graph for `If`/`Loop`; its initializers go to the root graph so
 *   both branches share weights (as Optimum's merged decoders do), and names stay unique across
 *   the whole model because one counter serves the root and all its subgraphs.
 * - float16 graphs keep float32 inputs/outputs: `input()`/`output()` of a float tensor insert Cast
 *   nodes so that callers never see float16 (the way onnxconverter-common's keep_io_types=True
 *   exports behave). Use `g.floatType` / `g.fp()` for the compute type inside.
 * - Opset 17 (LayerNormalization is an opset-17 op), IR version 8; onnxruntime 1.30 supports both.
 */
import os from 'node:os';
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
type IAttributeProto = onnxProto.onnx.IAttributeProto;
type INodeProto = onnxProto.onnx.INodeProto;
type ITensorProto = onnxProto.onnx.ITensorProto;
type IValueInfoProto = onnxProto.onnx.IValueInfoProto;
type IGraphProto = onnxProto.onnx.IGraphProto;

export const OPSET = 17;
export const IR_VERSION = 8;

export type DType = 'float32' | 'float16' | 'int64' | 'int32' | 'bool';
export type FloatType = 'float32' | 'float16';
export type Dim = number | string;

const DT = onnx.TensorProto.DataType;
export const ONNX_DTYPE: Record<DType, number> = {
  float32: DT.FLOAT,
  float16: DT.FLOAT16,
  int64: DT.INT64,
  int32: DT.INT32,
  bool: DT.BOOL,
};

export type TensorData = Float32Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array;

/** Force a FLOAT attribute for a whole number (plain integers become INT attributes). */
export class FloatAttr {
  constructor(readonly value: number) {}
}
export const f = (v: number): FloatAttr => new FloatAttr(v);

/** A tensor-valued attribute (e.g. `Constant`'s `value`, `ConstantOfShape`'s `value`). */
export interface TensorAttr {
  tensor: { dtype: DType; dims: number[]; data: TensorData };
}

export type AttrValue = number | FloatAttr | string | number[] | { floats: number[] } | Graph | TensorAttr;

export interface GraphOptions {
  /** Type of weights and activations inside the graph. Default float32. */
  floatType?: FloatType;
}

if (os.endianness() !== 'LE') throw new Error('ONNX raw_data is little-endian; this builder assumes a little-endian host');

/** float32 -> IEEE half bits, round to nearest even (Node 20 has no Float16Array). */
export function toFloat16Bits(src: Float32Array): Uint16Array {
  const out = new Uint16Array(src.length);
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  for (let i = 0; i < src.length; i++) {
    f32[0] = src[i]!;
    const x = u32[0]!;
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
      continue;
    }
    let e = exp - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00; // overflow -> Inf
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign; // underflow -> signed zero
        continue;
      }
      mant |= 0x800000; // subnormal half
      const shift = 14 - e;
      let h = mant >>> shift;
      const rem = mant & ((1 << shift) - 1);
      const half = 1 << (shift - 1);
      if (rem > half || (rem === half && h & 1)) h++;
      out[i] = sign | h;
      continue;
    }
    let h = (e << 10) | (mant >>> 13);
    const rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // may carry into the exponent: still correct
    out[i] = sign | h;
  }
  return out;
}

function rawBytes(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function tensorProto(name: string, dtype: DType, dims: readonly number[], data: TensorData): ITensorProto {
  const n = dims.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`tensor ${name}: ${data.length} values for dims [${dims.join(', ')}]`);
  return { name, dataType: ONNX_DTYPE[dtype], dims: [...dims], rawData: rawBytes(data) };
}

function valueInfo(name: string, dtype: DType, dims: readonly Dim[] | null): IValueInfoProto {
  const tensorType: onnxProto.onnx.TypeProto.ITensor = { elemType: ONNX_DTYPE[dtype] };
  if (dims) tensorType.shape = { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) };
  return { name, type: { tensorType } };
}

function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float16';
}

interface Shared {
  counter: number;
  used: Set<string>;
  /** Names handed out by fresh() and not yet bound to a tensor. */
  reserved: Set<string>;
}

export class Graph {
  readonly floatType: FloatType;
  private readonly nodes: INodeProto[] = [];
  private readonly inputs: IValueInfoProto[] = [];
  private readonly outputs: IValueInfoProto[] = [];
  private readonly inits: ITensorProto[] = [];
  private readonly root: Graph;
  private readonly shared: Shared;

  constructor(
    readonly name: string,
    opts: GraphOptions = {},
    parent?: Graph,
  ) {
    this.floatType = opts.floatType ?? parent?.floatType ?? 'float32';
    this.root = parent ? parent.root : this;
    this.shared = parent ? parent.shared : { counter: 0, used: new Set(), reserved: new Set() };
  }

  /** A model-unique name with the given prefix. */
  fresh(prefix: string): string {
    let n: string;
    do n = `${prefix}_${this.shared.counter++}`;
    while (this.shared.used.has(n));
    this.shared.used.add(n);
    this.shared.reserved.add(n);
    return n;
  }

  private claim(name: string): string {
    if (this.shared.reserved.delete(name)) return name;
    if (this.shared.used.has(name)) throw new Error(`duplicate tensor name ${name}`);
    this.shared.used.add(name);
    return name;
  }

  /** The ONNX type of the graph's float compute type ('float32' | 'float16'). */
  fp(): FloatType {
    return this.floatType;
  }

  /**
   * Declare a graph input. Returns the name to use downstream: for a float input in a float16
   * graph that is the output of a Cast to float16, the declared input itself stays float32.
   */
  input(name: string, dtype: DType, dims: readonly Dim[] | null): string {
    this.inputs.push(valueInfo(this.claim(name), dtype, dims));
    if (isFloat(dtype) && dtype !== this.floatType) return this.cast(name, this.floatType);
    return name;
  }

  /**
   * Declare a graph output produced by tensor `from` (renamed through Identity/Cast when the
   * names differ). A float output in a float16 graph is cast back to the declared dtype.
   */
  output(name: string, dtype: DType, dims: readonly Dim[] | null, from: string = name): void {
    if (from !== name) {
      const needsCast = isFloat(dtype) && dtype !== this.floatType;
      this.node(needsCast ? 'Cast' : 'Identity', [from], [name], needsCast ? { to: ONNX_DTYPE[dtype] } : {});
    }
    this.outputs.push(valueInfo(name, dtype, dims));
  }

  /** An initializer in exactly the given dtype (stored on the root graph). */
  initializer(name: string, dtype: DType, dims: readonly number[], data: TensorData): string {
    if (this.root !== this) return this.root.initializer(name, dtype, dims, data);
    this.inits.push(tensorProto(this.claim(name), dtype, dims, data));
    return name;
  }

  /** A float initializer in the graph's float type (converted to half for float16 graphs). */
  weight(name: string, dims: readonly number[], data: Float32Array): string {
    if (this.floatType === 'float16') return this.initializer(name, 'float16', dims, toFloat16Bits(data));
    return this.initializer(name, 'float32', dims, data);
  }

  /** A float constant in the graph's float type (scalar when dims is []). */
  constFloat(values: number | readonly number[], dims?: readonly number[], prefix = 'const'): string {
    const arr = Float32Array.from(typeof values === 'number' ? [values] : values);
    return this.weight(this.fresh(prefix), dims ?? (typeof values === 'number' ? [] : [arr.length]), arr);
  }

  /** An int64 constant (1-D unless dims is given; `[]` for a scalar). */
  constInt64(values: number | readonly number[], dims?: readonly number[], prefix = 'const'): string {
    const list = typeof values === 'number' ? [values] : values;
    const arr = BigInt64Array.from(list.map((v) => BigInt(v)));
    return this.initializer(this.fresh(prefix), 'int64', dims ?? (typeof values === 'number' ? [] : [arr.length]), arr);
  }

  /**
   * Add a node. `outputs` is a list of names or a count of auto-named outputs (default 1).
   * Empty-string inputs are ONNX's "optional input omitted". Returns the output names.
   */
  node(
    op: string,
    inputs: readonly string[],
    outputs: readonly string[] | number = 1,
    attrs: Record<string, AttrValue> = {},
    opts: { domain?: string; name?: string } = {},
  ): string[] {
    const outs =
      typeof outputs === 'number'
        ? Array.from({ length: outputs }, () => this.fresh(op.toLowerCase()))
        : outputs.map((o) => this.claim(o));
    const node: INodeProto = {
      opType: op,
      input: [...inputs],
      output: outs,
      name: opts.name ?? this.fresh(`n_${op}`),
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    };
    if (opts.domain) node.domain = opts.domain;
    this.nodes.push(node);
    return outs;
  }

  /** Single-output shorthand for `node`. */
  op(op: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}): string {
    return this.node(op, inputs, 1, attrs)[0]!;
  }

  cast(x: string, to: DType): string {
    return this.op('Cast', [x], { to: ONNX_DTYPE[to] });
  }

  /** A branch graph for `If`/`Loop` attributes; shares names and initializers with this model. */
  subgraph(name: string): Graph {
    return new Graph(name, { floatType: this.floatType }, this);
  }

  toProto(): IGraphProto {
    return {
      name: this.name,
      node: this.nodes,
      input: this.inputs,
      output: this.outputs,
      initializer: this.inits,
    };
  }

  /** Serialize as a model (root graphs only). */
  toBytes(opts: { producer?: string; docString?: string } = {}): Uint8Array {
    if (this.root !== this) throw new Error('toBytes() is for the root graph');
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: opts.producer ?? 'omnisearch',
      producerVersion: '0.1.0',
      docString: opts.docString ?? '',
      opsetImport: [{ domain: '', version: OPSET }],
      graph: this.toProto(),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function attribute(name: string, v: AttrValue): IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (v instanceof FloatAttr) return { name, type: T.FLOAT, f: v.value };
  if (typeof v === 'number') return Number.isInteger(v) ? { name, type: T.INT, i: v } : { name, type: T.FLOAT, f: v };
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (v instanceof Graph) return { name, type: T.GRAPH, g: v.toProto() };
  if (Array.isArray(v)) {
    return v.every(Number.isInteger) ? { name, type: T.INTS, ints: v } : { name, type: T.FLOATS, floats: v };
  }
  if ('floats' in v) return { name, type: T.FLOATS, floats: v.floats };
  const t = v.tensor;
  return { name, type: T.TENSOR, t: tensorProto('', t.dtype, t.dims, t.data) };
}
