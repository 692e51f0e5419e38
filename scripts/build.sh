#!/usr/bin/env bash
# Configures and builds longrope in Release.
#   scripts/build.sh                 -> build/ against Debian's LibTorch 1.13 (CPU)
#   scripts/build.sh --torch2 PYTHON -> build-torch2/ against the LibTorch 2.x inside PYTHON's torch wheel
#                                       (CPU + CUDA; what GPU machines have)
# For --torch2, LONGROPE_BUILD_DIR names another directory, LONGROPE_PREFIX_PATH adds ;-separated
# prefixes to search (unpacked Debian packages on a machine without them: scripts/gpu-check.sh), and
# LONGROPE_TARGETS builds only the targets it names.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${LONGROPE_JOBS:-$(nproc)}
if [[ ${1:-} == --torch2 ]]; then
  python=${2:?usage: build.sh --torch2 PYTHON}
  dir=${LONGROPE_BUILD_DIR:-build-torch2}
  torch_root=$("$python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
  # The wheel's CUDA libraries (e.g. NCCL) are newer than a system CUDA toolkit's: point the linker at
  # them (at run time libtorch's own RUNPATH finds them).
  rpath_link=$(ls -d "$torch_root"/../nvidia/*/lib "$torch_root"/../nvidia/cu*/lib 2>/dev/null | tr '\n' ':')
  boost=""
  for prefix in ${LONGROPE_PREFIX_PATH:+${LONGROPE_PREFIX_PATH//;/ }}; do
    found=$(ls -d "$prefix"/lib/x86_64-linux-gnu/cmake/Boost-* 2>/dev/null | head -1 || true)
    [[ -n $found ]] && boost=$found
  done
  # Name the libraries explicitly: find_library would otherwise prefer Debian's libtorch in /usr/lib.
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$torch_root/share/cmake${LONGROPE_PREFIX_PATH:+;$LONGROPE_PREFIX_PATH}" \
    -DCMAKE_EXE_LINKER_FLAGS="-Wl,-rpath-link,${rpath_link%:}" \
    -DTORCH_LIBRARY="$torch_root/lib/libtorch.so" -Dc10_LIBRARY="$torch_root/lib/libc10.so" \
    ${boost:+-DBoost_DIR=$boost} -DLONGROPE_PYTHON="$python" >/dev/null
  ninja -C "$dir" -j "$jobs" ${LONGROPE_TARGETS:-}
else
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C build -j "$jobs"
fi
