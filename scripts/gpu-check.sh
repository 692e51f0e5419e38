#!/usr/bin/env bash
# The GPU check in one command, for a lent GPU machine (bare: CUDA, python3 with torch and
# transformers, CMake, ninja; no package access). From the repository root, with .deps carried:
#   scripts/gpu-check.sh [--out DIR] [--budget-s S]   on the GPU (S: wall-time budget, default 450)
#   scripts/gpu-check.sh --cpu-rehearsal [--out DIR]  every step here on the CPU, tiny shapes (CI runs it)
# Steps, each timed into DIR/gpu-check.json (the log: DIR/gpu-check.log; DIR defaults to $OUT, else
# build-gpu/check):
#   1. unpack the Debian packages carried in .deps/debs (bench/README.md: how to make them);
#   2. configure and build against this machine's torch, all cores (the rehearsal reuses build-torch2);
#   3. the CUDA tests (ctest -L cuda), JSON from gtest;
#   4. bench/gpu_bench.py: a LLaMA-2-7B shape, random bf16 weights made on the device, 4k-128k tokens,
#      ours against transformers: tokens/s, MFU, peak memory;
#   5. a search on the GPU (the shipped model at 64x, settings below) and the same candidates' rate
#      on this machine's CPU: evaluations per hour;
#   6. that search as one MPI rank on the device, where the machine has mpirun (skipped, saying so, if not).
# Every step checks the time left and is skipped, saying so, when it would not fit.
set -uo pipefail
cd "$(dirname "$0")/.."
rehearsal=0 budget=450 out=${OUT:-build-gpu/check}
while (($#)); do
  case $1 in
    --cpu-rehearsal) rehearsal=1; shift ;;
    --out) out=$2; shift 2 ;;
    --budget-s) budget=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "gpu-check: unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
exec > >(tee "$out/gpu-check.log") 2>&1
start=$SECONDS
python=${PYTHON:-python3}
((rehearsal)) && python=${PYTHON:-$HOME/.cache/longrope-venv/bin/python}
steps=()  # JSON objects, one per step
failed=0
left() { echo $((budget - (SECONDS - start))); }
record() {  # record NAME STATUS SECONDS NOTE
  [[ $2 == failed ]] && failed=1
  steps+=("{\"step\": \"$1\", \"status\": \"$2\", \"seconds\": $3, \"note\": \"${4//\"/\'}\"}")
  echo "gpu-check: $1: $2 in $3 s${4:+ ($4)}; $(left) s of the budget left"
}
fits() {  # fits NAME SECONDS_NEEDED: false (and recorded as skipped) when the budget cannot hold it
  if (($(left) < $2)); then record "$1" skipped 0 "needs ~$2 s, $(left) s left"; return 1; fi
}
finish() {
  local IFS=,
  echo "{\"mode\": \"$([[ $rehearsal == 1 ]] && echo cpu-rehearsal || echo gpu)\", \"budget_s\": $budget," \
       "\"wall_s\": $((SECONDS - start)), \"steps\": [${steps[*]}]}" >"$out/gpu-check.json"
  echo "gpu-check: wrote $out/gpu-check.json"
}
trap finish EXIT

device=cuda dtype=bf16 lengths=4k,16k,32k,64k,128k shape=llama2-7b threads=$(nproc) build=build-gpu
if ((rehearsal)); then
  device=cpu dtype=f32 lengths=512,1k shape=tiny threads=2 build=build-torch2
  export LONGROPE_TEST_DEVICE=cpu
fi
echo "gpu-check: $([[ $rehearsal == 1 ]] && echo 'CPU rehearsal' || echo GPU), python $python, budget $budget s"
"$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")'
((rehearsal)) || nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true

# 1. Packages.
t=$SECONDS
prefixes=""
if [[ -d .deps/debs ]]; then
  rm -rf .deps/prefix && mkdir -p .deps/prefix
  for deb in .deps/debs/*.deb; do dpkg-deb -x "$deb" .deps/prefix; done
  lib=$PWD/.deps/prefix/usr/lib/x86_64-linux-gnu
  for so in "$lib"/*.so; do [[ -e $so ]] || ln -sf "$(basename "$(readlink "$so")")" "$so"; done
  prefixes=";$PWD/.deps/prefix/usr;$lib/cmake"
  export LD_LIBRARY_PATH=$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  record packages ok $((SECONDS - t)) "$(ls .deps/debs | wc -l) debs"
else
  record packages ok 0 "no .deps/debs: the system's packages"
fi

# 2. Build against this machine's torch (scripts/build.sh --torch2: the rehearsal's build too).
t=$SECONDS
if LONGROPE_BUILD_DIR=$build LONGROPE_PREFIX_PATH="${prefixes#;}" LONGROPE_TARGETS="longrope longrope_cuda_tests" \
   scripts/build.sh --torch2 "$python" >"$out/build.log" 2>&1; then
  built=ok
else
  built=failed
  tail -n 40 "$out/build.log"
fi
record build "$built" $((SECONDS - t)) "$build"
[[ $built == ok ]] || exit 1
longrope=$PWD/$build/longrope

# 3. The CUDA tests.
if fits cuda-tests 60; then
  t=$SECONDS
  GTEST_OUTPUT=json:$out/cuda-tests.json "$build/tests/longrope_cuda_tests" && status=ok || status=failed
  record cuda-tests "$status" $((SECONDS - t)) "$build/tests/longrope_cuda_tests"
fi

# 4. The benchmark: ours against transformers on a LLaMA-2-7B shape.
if fits benchmark 90; then
  t=$SECONDS
  deadline=$(($(date +%s) + $(left) - 100))  # keep ~100 s for the search
  "$python" bench/gpu_bench.py --longrope "$longrope" --out "$out/gpu-bench.json" --device $device --dtype $dtype \
    --shape $shape --lengths $lengths --threads "$threads" --deadline "$deadline" && status=ok || status=failed
  record benchmark "$status" $((SECONDS - t)) "bench/gpu_bench.py, $shape, $lengths"
fi

# 5. A search on the GPU, and the rate of the same candidates on this machine's CPU.
docs=$out/search-docs
mkdir -p "$docs"
cat README.md bench/README.md >"$docs/a.txt"            # English prose the repository carries,
cat results/README.md results/performance.md >"$docs/b.txt"  # two documents of 40k+ bytes
settings=(--target 64x --docs 2 --population 16 --mutants 8 --crossovers 8 --parents 8 --seed 42) generations=2
((rehearsal)) && settings=(--target 4x --docs 2 --population 4 --mutants 2 --crossovers 2 --parents 2 --seed 42) generations=1
if fits search 60; then
  t=$SECONDS
  rm -rf "$out/search-gpu" "$out/search-cpu"
  "$longrope" search --model models/shipped/books-bytes-3m --data "$docs" --out "$out/search-gpu" --device $device \
    --threads "$threads" "${settings[@]}" --generations $generations && status=ok || status=failed
  record search-gpu "$status" $((SECONDS - t)) "${settings[*]} --generations $generations, device $device"
  if fits search-cpu 40; then
    t=$SECONDS
    # The initial population only (generations 0): the rate per evaluation is what compares.
    "$longrope" search --model models/shipped/books-bytes-3m --data "$docs" --out "$out/search-cpu" --device cpu \
      --threads "$threads" "${settings[@]}" --generations 0 >/dev/null && status=ok || status=failed
    record search-cpu "$status" $((SECONDS - t)) "the same settings, generations 0, on the CPU"
  fi
  "$python" - "$out" <<'PY' || true
import glob, json, sys
out = sys.argv[1]
rates = {}
for where in ("gpu", "cpu"):
    for path in glob.glob(f"{out}/search-{where}/*/table.json"):
        t = json.load(open(path))
        rates[where] = {"evaluations": t["evaluations"], "wall_time_s": t["wall_time_s"],
                        "evaluations_per_hour": 3600 * t["evaluations"] / max(t["wall_time_s"], 1e-9),
                        "search_ppl": t["search_ppl"], "yarn_ppl": t["search_baselines_ppl"]["yarn"]}
json.dump(rates, open(f"{out}/search-rates.json", "w"), indent=2)
print("search rates:", json.dumps(rates))
PY
fi
# 6. The same search as one MPI rank on the device (--device cuda: cuda:<local rank>), where the
# machine has Open MPI; the device machine is bare, so this step may only say why it was skipped.
if ! command -v mpirun >/dev/null || ! ldd "$longrope" | grep -q libmpi; then
  record search-mpi skipped 0 "no mpirun, or a build without MPI, on this machine"
elif fits search-mpi 40; then
  t=$SECONDS
  rm -rf "$out/search-mpi"
  mpi_device=$device
  [[ $device == cuda* ]] && mpi_device=cuda
  OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun -n 1 "$longrope" search --model models/shipped/books-bytes-3m \
    --data "$docs" --out "$out/search-mpi" --device $mpi_device --threads "$threads" "${settings[@]}" --generations 0 \
    >/dev/null 2>"$out/search-mpi.log" && status=ok || status=failed
  record search-mpi "$status" $((SECONDS - t)) "mpirun -n 1, the same settings, generations 0, device $mpi_device"
fi
exit $failed
