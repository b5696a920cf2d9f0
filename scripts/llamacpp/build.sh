#!/usr/bin/env bash
# Build llama-server from an unpacked source tree (scripts/llamacpp/source.sh).
#   scripts/llamacpp/build.sh SRC [cpu|cuda] [JOBS]
# cpu: about 10-14 minutes on 2 cores. cuda: needs nvcc and cmake (the GPU machine has them);
# CMAKE_CUDA_ARCHITECTURES defaults to 90 (H100/H200), override with CUDA_ARCH.
# The binary ends in SRC/build-<kind>/bin/llama-server.
set -euo pipefail
src=${1:?usage: build.sh SRC [cpu|cuda] [JOBS]}
kind=${2:-cpu}
jobs=${3:-$(nproc)}
flags=(-DCMAKE_BUILD_TYPE=Release -DLLAMA_BUILD_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DBUILD_SHARED_LIBS=OFF)
case $kind in
  cpu) ;;
  cuda) flags+=(-DGGML_CUDA=ON "-DCMAKE_CUDA_ARCHITECTURES=${CUDA_ARCH:-90}") ;;
  *) echo "build.sh: kind must be cpu or cuda, not $kind" >&2; exit 2 ;;
esac
cmake -S "$src" -B "$src/build-$kind" "${flags[@]}"
cmake --build "$src/build-$kind" --target llama-server -j "$jobs"
"$src/build-$kind/bin/llama-server" --version || true
