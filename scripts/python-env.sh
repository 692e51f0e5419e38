#!/usr/bin/env bash
# Creates (once) and tops up the cached venv the ecosystem checks use: torch + transformers (logit
# parity, LibTorch 2.x build) and gguf (llama-cpp-python: scripts/llama-cpp.sh). Prints the venv's
# python on stdout.
# Without network it keeps what is there; the checks then skip (or fail under CI=true).
set -uo pipefail
venv=${LONGROPE_VENV:-$HOME/.cache/longrope-venv}
packages=(torch transformers accelerate numpy safetensors sentencepiece tokenizers gguf)
if [[ ! -x $venv/bin/python ]]; then
  python3 -m venv "$venv" >&2 || { echo "python-env: cannot create $venv" >&2; exit 1; }
fi
if ! "$venv/bin/python" -c 'import torch, transformers, accelerate, numpy, safetensors, gguf' 2>/dev/null; then
  echo "python-env: installing ${packages[*]} into $venv (a few GB, once)" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check "${packages[@]}" >&2 ||
    echo "python-env: pip install failed; ecosystem checks will skip" >&2
fi
echo "$venv/bin/python"
