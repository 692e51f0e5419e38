#!/usr/bin/env bash
# Creates (once) and tops up the cached venv the ecosystem checks use: torch + transformers (logit
# parity, LibTorch 2.x build) and gguf (llama-cpp-python: scripts/llama-cpp.sh). Prints the venv's
# python on stdout.
# Also a second, small venv with a pinned transformers 4.x that shares the first one's torch (a .pth
# file puts the first venv's site-packages after its own), so the export checks load our configs in
# both transformers generations (4.x reads L at the config's top level, 5.x in the rope parameters).
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
# transformers 4.x: its own site-packages first, then the first venv's (torch, numpy, safetensors).
tf4=${LONGROPE_TF4_VENV:-$HOME/.cache/longrope-venv-tf4}
tf4_pins=("transformers==4.57.6" "huggingface-hub<1.0" "tokenizers>=0.22,<0.23")
if [[ -x $venv/bin/python ]] && ! "$tf4/bin/python" -c 'import transformers, torch; assert transformers.__version__ == "4.57.6"' 2>/dev/null; then
  echo "python-env: installing ${tf4_pins[*]} into $tf4 (sharing $venv's torch)" >&2
  { [[ -x $tf4/bin/python ]] || "$venv/bin/python" -m venv --without-pip "$tf4"; } >&2 &&
    shared=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') &&
    own=$("$tf4/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') &&
    echo "$shared" >"$own/longrope-shared.pth" &&
    "$venv/bin/pip" install -q --disable-pip-version-check --no-deps --ignore-installed --target "$own" "${tf4_pins[@]}" >&2 ||
    echo "python-env: the transformers 4.x venv could not be made; its checks will skip" >&2
fi
echo "$venv/bin/python"
