#!/usr/bin/env bash
# Fetches llama.cpp as vendored in PyPI's llama-cpp-python source distribution, builds it once
# (libllama + llama-perplexity, CPU, shared libraries) and installs the llama_cpp Python package
# into the venv against that build, so llama.cpp is compiled only once. Everything is cached under
# ${LONGROPE_CACHE:-~/.cache/longrope}/llama.cpp; a second run only checks and prints.
#   scripts/llama-cpp.sh [--python PYTHON]  -> fetch/build/install what is missing, then print the env
#   scripts/llama-cpp.sh --print-env        -> print the env of what is cached; changes nothing,
#                                              exits 1 if the build is not there
# The env is KEY=VALUE lines on stdout (eval-able): LLAMA_CPP_VERSION, LLAMA_CPP_SRC (llama.cpp
# sources), LLAMA_CPP_BIN (llama-perplexity), LLAMA_CPP_LIB_PATH (libllama.so; llama_cpp reads this
# variable too), LLAMA_CPP_CONVERT (convert_hf_to_gguf.py; run it with the venv's python).
# Without network it keeps what is cached, else it exits non-zero with one line on stderr.
set -uo pipefail
version=0.3.36  # llama-cpp-python; its vendor/llama.cpp is the llama.cpp we build
cache=${LONGROPE_CACHE:-$HOME/.cache/longrope}/llama.cpp
src=$cache/llama_cpp_python-$version
llama_src=$src/vendor/llama.cpp
build=$cache/build-$version-noamx  # the flags below are part of the name: an older build is not reused
python=${LONGROPE_VENV:-$HOME/.cache/longrope-venv}/bin/python

die() { echo "llama-cpp: $*" >&2; exit 1; }

print_env() {
  [[ -f $build/.built ]] || die "llama.cpp $version is not built in $build; run scripts/llama-cpp.sh"
  echo "LLAMA_CPP_VERSION=$version"
  echo "LLAMA_CPP_SRC=$llama_src"
  echo "LLAMA_CPP_BIN=$build/bin"
  echo "LLAMA_CPP_LIB_PATH=$build/bin"
  echo "LLAMA_CPP_CONVERT=$llama_src/convert_hf_to_gguf.py"
}

case ${1:-} in
  --print-env) print_env; exit ;;
  --python) python=${2:?usage: llama-cpp.sh [--python PYTHON | --print-env]} ;;
  "") ;;
  *) die "usage: llama-cpp.sh [--python PYTHON | --print-env]" ;;
esac

mkdir -p "$cache" || die "cannot create $cache"
# One run at a time per cache (a benchmark and the tests may both call this).
exec 9>"$cache/.lock"
flock 9

# 1. The source distribution, extracted once.
if [[ ! -f $src/.extracted ]]; then
  sdist=$cache/llama_cpp_python-$version.tar.gz
  if [[ ! -f $sdist ]]; then
    echo "llama-cpp: downloading llama-cpp-python==$version (source, ~75 MB)" >&2
    # The sdist's URL from PyPI's simple index, fetched as a file: `pip download --no-binary :all:` would
    # build its metadata, and with it every build dependency from source (cmake among them).
    mkdir -p "$cache/download" &&
      "$python" - "$version" "$cache/download/sdist.tar.gz" >"$cache/pip.log" 2>&1 <<'PY' ||
import hashlib, json, sys, urllib.request
version, out = sys.argv[1], sys.argv[2]
index = urllib.request.Request("https://pypi.org/simple/llama-cpp-python/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
files = json.load(urllib.request.urlopen(index, timeout=120))["files"]
sdist = next(f for f in files if f["filename"] == f"llama_cpp_python-{version}.tar.gz")
data = urllib.request.urlopen(sdist["url"], timeout=600).read()
if hashlib.sha256(data).hexdigest() != sdist["hashes"]["sha256"]:
    sys.exit(f"{sdist['url']}: sha256 does not match PyPI's")
open(out, "wb").write(data)
PY
      die "cannot download llama-cpp-python==$version from PyPI (offline?) and nothing is cached in $cache (log: $cache/pip.log)"
    mv "$cache/download/sdist.tar.gz" "$sdist" || die "no $sdist was saved"
    rmdir "$cache/download"
  fi
  rm -rf "$src" "$src.partial" && mkdir "$src.partial" &&
    tar -xzf "$sdist" -C "$src.partial" --strip-components=1 &&
    mv "$src.partial" "$src" && touch "$src/.extracted" || die "cannot extract $sdist"
fi

# 2. llama.cpp itself, built once (11 min on the project's 2-core box). GGML_NATIVE stays on: the
# cache is per machine, so a cache copied to another CPU must be deleted (it may hit illegal instructions).
# AMX stays off: on a Xeon with AMX whose kernel (or VM) does not grant the tile state, ggml's AMX
# kernels die on their first ldtilecfg (a general protection fault, seen here).
if [[ ! -f $build/.built ]]; then
  echo "llama-cpp: building llama.cpp from llama-cpp-python $version (once; log: $build/build.log)" >&2
  mkdir -p "$build"
  start=$SECONDS
  {
    cmake -S "$llama_src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
      -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF \
      -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF \
      "-DCMAKE_C_FLAGS=-mno-amx-tile -mno-amx-int8 -mno-amx-bf16" "-DCMAKE_CXX_FLAGS=-mno-amx-tile -mno-amx-int8 -mno-amx-bf16" &&
      nice -n 10 cmake --build "$build" -j "${LONGROPE_JOBS:-2}" --target llama llama-perplexity
  } >"$build/build.log" 2>&1 || { tail -n 20 "$build/build.log" >&2; die "llama.cpp build failed (log: $build/build.log)"; }
  touch "$build/.built"
  echo "llama-cpp: built in $((SECONDS - start)) s" >&2
fi

# 3. The Python bindings without their own copy of llama.cpp (LLAMA_BUILD=OFF builds nothing); the
# package's lib dir, where llama_cpp looks for libllama/libggml, links to our build.
installed=$("$python" -c 'import importlib.metadata as m; print(m.version("llama_cpp_python"))' 2>/dev/null)
if [[ $installed != "$version" ]]; then
  echo "llama-cpp: installing llama_cpp_python $version into $python (bindings only)" >&2
  CMAKE_ARGS="-DLLAMA_BUILD=OFF -DLLAVA_BUILD=OFF" "$python" -m pip install -q --disable-pip-version-check \
    "$src" >"$cache/pip.log" 2>&1 ||
    die "cannot install llama_cpp_python $version into $python (offline?; log: $cache/pip.log); llama.cpp is built in $build"
fi
package=$("$python" -c 'import importlib.util as u; import os; print(os.path.dirname(u.find_spec("llama_cpp").origin))') ||
  die "llama_cpp is not importable from $python"
mkdir -p "$package/lib" || die "cannot create $package/lib"
for lib in "$build"/bin/libllama.so* "$build"/bin/libggml*.so*; do
  ln -sfn "$lib" "$package/lib/$(basename "$lib")" || die "cannot link $lib into $package/lib"
done
"$python" -c 'import llama_cpp; llama_cpp.llama_backend_init()' >/dev/null 2>&1 ||
  die "llama_cpp does not load the library built in $build/bin"
print_env
