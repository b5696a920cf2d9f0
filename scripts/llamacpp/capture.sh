#!/usr/bin/env bash
# Record a real llama-server's answers as test fixtures: streams of /v1/completions and
# /v1/chat/completions (testdata/sse/llamacpp_real_*.txt), /metrics pages at rest and after
# load (internal/promscrape/testdata/metrics/llamacpp-*.txt), /props and /v1/models
# (internal/server/testdata/llamacpp-*.json), and the 400 answer to a token id outside the
# vocabulary (internal/loadgen/testdata/). Uses a tiny model from `llmscale model random`.
#   scripts/llamacpp/capture.sh LLMSCALE LLAMA_SERVER
set -euo pipefail
llmscale=${1:?usage: capture.sh LLMSCALE LLAMA_SERVER}
server=${2:?usage: capture.sh LLMSCALE LLAMA_SERVER}
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
"$llmscale" model random --size tiny --seed 3 --out "$tmp/tiny.gguf"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$server" --model "$tmp/tiny.gguf" --host 127.0.0.1 --port "$port" --metrics --parallel 2 --ctx-size 1024 \
  --threads 1 > "$tmp/server.log" 2>&1 &
pid=$!
base=http://127.0.0.1:$port
for _ in $(seq 120); do curl -sf "$base/health" > /dev/null && break; sleep 0.5; done
sse=testdata/sse
metrics=internal/promscrape/testdata/metrics
desc=internal/server/testdata
curl -sf "$base/metrics" > "$metrics/llamacpp-idle.txt"
curl -sf "$base/props" | python3 -m json.tool > "$desc/llamacpp-props.json"
curl -sf "$base/v1/models" | python3 -m json.tool > "$desc/llamacpp-models.json"
curl -sfN "$base/v1/completions" -H 'Content-Type: application/json' -d '{"model":"m","prompt":[300,301,302,303,304,305,306,307],
  "max_tokens":8,"stream":true,"stream_options":{"include_usage":true},"ignore_eos":true}' > "$sse/llamacpp_real_completions.txt"
curl -sfN "$base/v1/chat/completions" -H 'Content-Type: application/json' -d '{"model":"m","messages":[{"role":"user","content":"Say hello"}],
  "max_tokens":8,"stream":true,"stream_options":{"include_usage":true},"ignore_eos":true}' > "$sse/llamacpp_real_chat.txt"
curl -s "$base/v1/completions" -H 'Content-Type: application/json' \
  -d '{"model":"m","prompt":[5000],"max_tokens":4,"stream":true}' > internal/loadgen/testdata/llamacpp-invalid-token-400.json || true
curl -sf "$base/metrics" > "$metrics/llamacpp-after.txt"
echo "recorded from $("$server" --version 2>&1 | grep -m1 version || true)"
