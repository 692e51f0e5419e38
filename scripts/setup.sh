#!/usr/bin/env bash
# Set-up command: installs what is needed, builds (Release), and runs the default job (demo.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
scripts/demo.sh
