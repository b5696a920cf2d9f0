#!/usr/bin/env bash
# The llama.cpp GPU campaign in one command (issue 12, item 8), on a machine with nvcc, cmake
# and nvidia-smi and no network: build llama-server for CUDA from the carried source, write the
# 1B random-weight model, run testdata/llamacpp-gpu/gpu.yaml, and leave in $OUT the trimmed
# results tree (results.tgz), the logs, the plan and the GPU list.
#
# Prepare on a machine with Go, in the repository root (.carry/ and .llamacpp/ are ignored):
#   mkdir -p .carry
#   tar czf .carry/llamacpp-src.tgz -C .llamacpp/src --exclude=./build-cpu --exclude=./build-cuda .
#   CGO_ENABLED=0 go build -ldflags '-s -w' -o .carry/llmscale ./cmd/llmscale
# Then on the GPU machine, in the repository root:
#   OUT=/some/dir scripts/llamacpp/gpu-run.sh
# Steps already done (a built llama-server, a written model under $WORK) are skipped, so a
# second call on the same machine goes straight to the campaign. Budget: CUDA build ~5 min on
# 16 cores, model ~30 s, campaign ~3.5 min. The campaign is stopped cleanly (as by Ctrl-C,
# keeping what was measured) when the script has run DEADLINE s (default 560), so that a
# device command limited to 10 minutes still gets the trimmed results back.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:?set OUT to the folder for the results}
carry=${CARRY:-.carry}
work=${WORK:-/tmp/llmscale-llamacpp}
matrix=${MATRIX:-testdata/llamacpp-gpu/gpu.yaml}
llmscale=$carry/llmscale
mkdir -p "$out" "$work"
exec > >(tee -a "$out/gpu-run.log") 2>&1
echo "== $(date -u +%FT%TZ) gpu-run on $(hostname)"
nvidia-smi -L > "$out/nvidia-smi.txt" 2>&1 || true

server=$work/src/build-cuda/bin/llama-server
if [ ! -x "$server" ]; then
  echo "== building llama-server (cuda)"
  mkdir -p "$work/src"
  tar xzf "$carry/llamacpp-src.tgz" -C "$work/src"
  start=$SECONDS
  if ! scripts/llamacpp/build.sh "$work/src" cuda "${JOBS:-$(nproc)}" > "$out/build.log" 2>&1; then
    tail -40 "$out/build.log"; exit 1
  fi
  echo "built in $((SECONDS - start)) s"
fi
export PATH=$(dirname "$server"):$PATH
llama-server --version 2>&1 | tail -2 || true

model=$work/1b.gguf
if [ ! -s "$model" ]; then
  echo "== writing the 1B model"
  start=$SECONDS
  "$llmscale" model random --size 1b --context 65536 --out "$model"
  echo "written in $((SECONDS - start)) s"
fi

echo "== campaign $matrix"
"$llmscale" plan -m "$matrix" --set "model=$model" > "$out/plan.txt" 2>&1
limit=$(( ${DEADLINE:-560} - SECONDS ))
rc=0
if (( limit < 60 )); then
  echo "only $limit s left: run this script again on the same machine for the campaign"; rc=124
else
  echo "campaign time limit: $limit s"
  timeout -s INT -k 20 "$limit" \
    "$llmscale" run -m "$matrix" --set "model=$model" --results "$work/res" > "$out/run.log" 2>&1 || rc=$?
fi
echo "run exit $rc"
tail -30 "$out/run.log" || true

# Trim: the full server logs keep their last 300 lines (llama-server logs every request).
for f in "$work"/res/servers/*.log "$work"/res/raw/*/server.log; do
  if [ -f "$f" ]; then tail -300 "$f" > "$f.tail"; mv "$f.tail" "$f"; fi
done
tar czf "$out/results.tgz" -C "$work" res
ls -la "$out"
