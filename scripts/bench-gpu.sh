#!/usr/bin/env bash
# Runs the benchmarks on a CUDA host: OMNISEARCH_DEVICE=cuda and fp16 model variants.
# Prerequisites: an NVIDIA GPU with its driver, and onnxruntime-node installed with its CUDA
# provider binaries:  ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci
# Usage: scripts/bench-gpu.sh [bench names...]   (default: all of them, as npm run bench)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "bench-gpu: no usable NVIDIA GPU (nvidia-smi missing or failing)." >&2
  echo "bench-gpu: on a CPU-only machine run 'npm run bench' instead; it reports the CPU fallback in every header." >&2
  exit 2
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader

# The same check the service makes (src/models/runtime.ts cudaAvailability).
if ! node --import tsx -e "
  import('./src/models/runtime.ts').then(({ cudaAvailability }) => {
    const c = cudaAvailability();
    console.log('onnxruntime-node CUDA provider: ' + c.reason);
    process.exit(c.ok ? 0 : 1);
  });"; then
  echo "bench-gpu: onnxruntime-node has no CUDA provider here; reinstall with ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci" >&2
  echo "bench-gpu: (with OMNISEARCH_DEVICE=cuda the engine would refuse to start rather than fall back to CPU silently)" >&2
  exit 3
fi

export OMNISEARCH_DEVICE=cuda
export OMNISEARCH_MODEL_VARIANT=fp16
# fp16 variants: the shared helper builds models/full with --fp16 when they are missing, and the
# batching, whisper and naive benches load the *_fp16.onnx files.
export OMNISEARCH_BENCH_FP16=1
export LOG_LEVEL="${LOG_LEVEL:-warn}"

if [ "$#" -eq 0 ]; then
  exec node --import tsx scripts/bench/all.ts
fi
for b in "$@"; do node --import tsx "scripts/bench/$b.ts"; done
