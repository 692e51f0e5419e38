#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) into build-fuzz/ and runs each for a while.
#   scripts/fuzz.sh [--seconds N] [--runs N] [TARGET ...]
# Targets: safetensors gguf npy factor_table tokenizer_json tokenizer_vocab bpe_encode (default: all), each for N
# seconds (default 60) or N executions, whichever ends first. A target's corpus lives in
# ~/.cache/longrope/fuzz/<target>/ and starts from the test fixtures (build-fuzz/fuzz_seeds). A crash
# is kept in ~/.cache/longrope/fuzz/crashes/<target>/, printed, and the script exits 1.
# Prints one line per target: executions, seconds, corpus size, crashes. One allocation over 512 MB
# (a size read from the input and not capped) or 2 GB of memory counts as a crash.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=60 runs=-1 targets=()
while (($#)); do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
((${#targets[@]})) || targets=(safetensors gguf npy factor_table tokenizer_json tokenizer_vocab bpe_encode)
command -v clang++ >/dev/null || { echo "fuzz: clang++ is missing (apt-get install clang)" >&2; exit 1; }
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLONGROPE_FUZZ=ON \
  -DLONGROPE_SANITIZE=address,undefined -DLONGROPE_BUILD_TESTS=ON >/dev/null
ninja -C build-fuzz -j "${LONGROPE_JOBS:-$(nproc)}" >/dev/null
root=${LONGROPE_FUZZ_DIR:-$HOME/.cache/longrope/fuzz}
seeded=$root/.seeds
if [[ ! -d $seeded ]]; then
  for t in safetensors gguf npy factor_table tokenizer_json tokenizer_vocab bpe_encode; do mkdir -p "$seeded.tmp/$t"; done
  build-fuzz/tests/fuzz/fuzz_seeds "$seeded.tmp"
  mv "$seeded.tmp" "$seeded"
fi
status=0
for t in "${targets[@]}"; do
  exe=build-fuzz/tests/fuzz/fuzz_$t
  [[ -x $exe ]] || { echo "fuzz: no target '$t'" >&2; exit 2; }
  corpus=$root/$t crashes=$root/crashes/$t
  mkdir -p "$corpus" "$crashes"
  mkdir -p "$seeded/$t"  # a target newer than the cached seeds starts from its own
  [[ -n $(ls -A "$corpus") || -z $(ls -A "$seeded/$t") ]] || cp "$seeded/$t"/* "$corpus/"
  # Crashes of earlier runs are replayed first: fixed ones join the corpus (they guard the fix).
  for old in "$crashes"/*; do
    [[ -f $old ]] || continue
    if "$exe" "$old" >/dev/null 2>&1; then mv "$old" "$corpus/"; fi
  done
  log=$root/$t.log
  set +e
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 "$exe" "$corpus" -artifact_prefix="$crashes/" \
    -max_total_time="$seconds" -runs="$runs" -rss_limit_mb=2048 -malloc_limit_mb=512 -max_len=65536 -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  found=$(find "$crashes" -type f | wc -l)
  echo "fuzz_$t: ${executions:-?} executions in ${took:-?} s, corpus $(ls "$corpus" | wc -l) inputs, $found crashes (exit $rc)"
  if ((rc != 0 || found > 0)); then
    status=1
    grep -m 20 -E 'ERROR|SUMMARY|runtime error|terminate|==[0-9]+==' "$log" | sed 's/^/    /' || true
    echo "    log: $log; inputs: $crashes"
  fi
done
exit $status
