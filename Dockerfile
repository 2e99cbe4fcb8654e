# CUDA host image. Not buildable on the project's CI machines (no Docker engine, no GPU):
# build it on a GPU host with `docker build -t omnisearch .` and run with `--gpus all`.
FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl ffmpeg python3 make g++ \
 && curl -fsSL https://deb.nodesource.com/setup_20.x | bash - && apt-get install -y nodejs && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# cuda12: onnxruntime-node's installer fetches its CUDA execution-provider binaries.
RUN ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci --omit=dev
COPY . .
ENV OMNISEARCH_DEVICE=cuda OMNISEARCH_DATA_DIR=/data OMNISEARCH_MODELS_DIR=/models PORT=8080
VOLUME ["/data", "/models"]
EXPOSE 8080
CMD ["node", "bin/omnisearch.js", "serve"]
