#!/usr/bin/env bash
# Unpack llama.cpp's source from a git directory (a snapshot of the public repository, e.g. the
# search tool's fetch of github:kainlan/llama.cpp-intel-optimizations) into DEST, leaving out the
# few blobs that snapshot lacks and everything a server build does not need.
#   scripts/llamacpp/source.sh GIT_DIR DEST [COMMIT]
set -euo pipefail
git_dir=${1:?usage: source.sh GIT_DIR DEST [COMMIT]}
dest=${2:?usage: source.sh GIT_DIR DEST [COMMIT]}
commit=${3:-HEAD}
mkdir -p "$dest"
git --git-dir="$git_dir" archive "$commit" -- \
  CMakeLists.txt cmake common ggml gguf-py include src tools vendor scripts licenses LICENSE \
  ':!ggml/src/ggml-sycl/ggml-sycl.cpp' ':!models/*.gguf' | tar -x -C "$dest"
# The top CMakeLists.txt adds app/, which a server build does not need.
sed -i 's|^\s*add_subdirectory(app)|# add_subdirectory(app)|' "$dest/CMakeLists.txt"
git --git-dir="$git_dir" rev-parse "$commit" > "$dest/.llamacpp-commit"
echo "llama.cpp $(cat "$dest/.llamacpp-commit") unpacked into $dest"
