#!/usr/bin/env bash
# Set-up command: installs what is needed, builds (Release), and runs the default job (demo.sh).
# The build is against the LibTorch 2.x inside PyPI's torch wheel (scripts/python-env.sh makes the
# venv, a few GB once): per document forward it runs ~5x faster than Debian's LibTorch 1.13 on the
# same CPU (results/performance.md). Without PyPI it falls back to the 1.13 build, saying so.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
if python=$(scripts/python-env.sh) && "$python" -c 'import torch' 2>/dev/null; then
  scripts/build.sh --torch2 "$python"
  LONGROPE=build-torch2/longrope scripts/demo.sh
else
  echo "setup: no torch wheel (is PyPI reachable?): building against Debian's LibTorch 1.13, ~5x slower per forward" >&2
  scripts/build.sh
  LONGROPE=build/longrope scripts/demo.sh
fi
