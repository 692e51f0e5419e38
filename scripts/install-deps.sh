#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages longrope builds and runs with (idempotent; needs root or sudo).
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config python3 python3-venv
  libtorch-dev libopenblas0-openmp          # LibTorch 1.13 (CPU); OpenBLAS: ~50x faster f32 matmul than reference BLAS
  libboost-program-options-dev libtbb-dev libfmt-dev nlohmann-json3-dev libgtest-dev libgmock-dev
  libsentencepiece-dev                      # longrope-tokenize (a separate process: its protobuf clashes with LibTorch)
  libpcre2-dev                              # byte-level BPE pre-tokenizer regexes (\p{L}, lookahead)
  gnuplot-nox                               # longrope plot
  libopenmpi-dev openmpi-bin                # search under mpirun/srun (one rank per device)
  clang util-linux                          # fuzz targets and sanitizer builds (scripts/fuzz.sh); flock for the run-lock tests
)
# libFuzzer's runtime: its own package on Debian 12 (libclang-rt-dev), inside clang's on older Ubuntu.
if apt-cache show libclang-rt-dev >/dev/null 2>&1; then packages+=(libclang-rt-dev); fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all packages present"
  exit 0
fi
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
