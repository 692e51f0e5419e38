#!/usr/bin/env bash
# Configures and builds longrope in Release.
#   scripts/build.sh                 -> build/ against Debian's LibTorch 1.13 (CPU)
#   scripts/build.sh --torch2 PYTHON -> build-torch2/ against the LibTorch 2.x inside PYTHON's torch wheel
#                                       (CPU + CUDA; what GPU machines have)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${LONGROPE_JOBS:-$(nproc)}
if [[ ${1:-} == --torch2 ]]; then
  python=${2:?usage: build.sh --torch2 PYTHON}
  torch_root=$("$python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
  # The wheel's CUDA libraries (e.g. NCCL) are newer than a system CUDA toolkit's: point the linker at
  # them (at run time libtorch's own RUNPATH finds them).
  rpath_link=$(ls -d "$torch_root"/../nvidia/*/lib "$torch_root"/../nvidia/cu*/lib 2>/dev/null | tr '\n' ':')
  # Name the libraries explicitly: find_library would otherwise prefer Debian's libtorch in /usr/lib.
  cmake -S . -B build-torch2 -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$torch_root/share/cmake" -DCMAKE_EXE_LINKER_FLAGS="-Wl,-rpath-link,${rpath_link%:}" \
    -DTORCH_LIBRARY="$torch_root/lib/libtorch.so" -Dc10_LIBRARY="$torch_root/lib/libc10.so" \
    -DLONGROPE_PYTHON="$python" >/dev/null
  ninja -C build-torch2 -j "$jobs"
else
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C build -j "$jobs"
fi
