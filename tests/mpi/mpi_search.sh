#!/usr/bin/env bash
# longrope search under mpirun: the same table as one process (also with racing, batched candidates and
# a coordinator-only rank 0); a rank killed mid-search, then a resume on another number of ranks that
# ends with that same table; ranks that failed to load the model, or disagree on the model or the
# settings, refused before any forward with one line naming the rank.
# Usage: mpi_search.sh PATH/TO/longrope SOURCE_DIR. Skips (77) without mpirun or an MPI build; fails
# instead under CI=true.
set -u
longrope=$(realpath "$1")
source_dir=$(realpath "$2")
skip() {
  if [[ ${CI:-} == true ]]; then echo "FAIL: $1 (CI must run the MPI tests)"; exit 1; fi
  echo "SKIP: $1"; exit 77
}
command -v mpirun >/dev/null || skip "no mpirun (apt install openmpi-bin libopenmpi-dev)"
ldd "$longrope" | grep -q libmpi || skip "$longrope was built without MPI (install libopenmpi-dev and rebuild)"
# Containers often run tests as root, which Open MPI refuses unless told; ranks may outnumber cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun() { command mpirun --oversubscribe "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
fail() { failed=$((failed + 1)); echo "FAIL $1"; [[ -f $work/err ]] && sed 's/^/    /' "$work/err" | tail -n 20; }
ok() { passed=$((passed + 1)); }

# Documents: the project's own prose (four files over 8k bytes each), the shipped byte-level model.
mkdir -p "$work/data"
i=0
for f in README.md results/README.md results/performance.md bench/README.md; do
  cp "$source_dir/$f" "$work/data/doc$i.txt"; i=$((i + 1))
done
model=$source_dir/models/shipped/books-bytes-3m
settings=(--model "$model" --data "$work/data" --target 2x --population 8 --generations 5 --mutants 4 --crossovers 4
          --parents 4 --docs 3 --validate-top 2 --threads 1 --seed 5)

# same_table NAME RUN_A RUN_B: λ, n̂, attention factor, scores and counts equal to the bit.
same_table() {
  if python3 - "$2/2x-512/table.json" "$3/2x-512/table.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
keys = ["lambda", "start_tokens", "attention_factor", "search_ppl", "validation_ppl", "search_baselines_ppl", "evaluations",
        "document_forwards", "raced_out"]
diff = [k for k in keys if k not in a or a.get(k) != b.get(k)]
sys.exit(f"differ in {diff}" if diff else 0)
PY
  then ok; else fail "$1: tables differ"; fi
}

run() {  # run NAME EXPECTED_EXIT command... (stderr kept in $work/err)
  local name=$1 want=$2
  shift 2
  "$@" >"$work/out" 2>"$work/err"
  local got=$?
  if [[ $got -ne $want ]]; then fail "$name: exit $got (want $want)"; return 1; fi
  return 0
}

# refused NAME NEEDLE RUN_DIR command...: non-zero, our one line names the rank, nothing written.
refused() {
  local name=$1 needle=$2 dir=$3
  shift 3
  "$@" >"$work/out" 2>"$work/err"
  local got=$? ours
  ours=$(grep -c "^longrope search" "$work/err")
  if [[ $got -ne 0 ]] && grep -qF -- "$needle" "$work/err" && [[ $ours -eq 1 ]] && [[ ! -e $dir ]]; then ok
  else fail "$name: exit $got, $ours lines of ours, want one with '$needle' and no $dir"; fi
}

run one-process 0 "$longrope" search "${settings[@]}" --out "$work/one" && ok
run three-ranks 0 mpirun -n 3 "$longrope" search "${settings[@]}" --out "$work/three" && same_table three-ranks "$work/one" "$work/three"
grep -q "2 on other ranks" "$work/err" && ok || fail "three-ranks: the log does not count the other ranks' evaluators"
run coordinator-only 0 mpirun -n 2 "$longrope" search "${settings[@]}" --coordinator-only --out "$work/coord" &&
  same_table coordinator-only "$work/one" "$work/coord"
racing=(--batch-candidates 2 --race-margin 0.01)
run racing-one 0 "$longrope" search "${settings[@]}" "${racing[@]}" --out "$work/race1" && ok
run racing-three 0 mpirun -n 3 "$longrope" search "${settings[@]}" "${racing[@]}" --out "$work/race3" &&
  same_table racing-three "$work/race1" "$work/race3"

# A rank killed mid-search: the job ends; the journal keeps what was scored; a resume on 2 ranks ends
# with the single-process table.
(mpirun -n 2 "$longrope" search "${settings[@]}" --out "$work/killed" : \
   -n 1 bash -c "echo \$\$ >'$work/pid'; exec '$longrope' search $(printf '%q ' "${settings[@]}") --out '$work/killed'" \
   >"$work/out" 2>"$work/err"; echo $? >"$work/killed.rc") &
journal=$work/killed/2x-512/evaluations.jsonl
for _ in $(seq 1 3000); do  # up to 5 minutes on a slow machine
  [[ -f $journal && $(wc -l <"$journal") -ge 12 ]] && break
  sleep 0.1
done
if [[ -s $work/pid && -f $journal && $(wc -l <"$journal") -ge 12 ]]; then
  kill -9 "$(cat "$work/pid")"
  wait
  kept=$(($(wc -l <"$journal") - 1))
  if [[ $(cat "$work/killed.rc") -ne 0 && $kept -ge 11 && $kept -lt 48 ]]; then ok
  else fail "killed: exit $(cat "$work/killed.rc"), $kept evaluations journaled (want a non-zero exit and 11..47)"; fi
  run resume-two-ranks 0 mpirun -n 2 "$longrope" search "${settings[@]}" --out "$work/killed" --resume &&
    same_table resume-two-ranks "$work/one" "$work/killed"
  # A kill right after a generation's save leaves nothing beyond the state to reuse (8 per generation).
  if ((kept % 8 != 0)); then
    grep -q "evaluations journaled after the last saved generation are reused" "$work/err" && ok ||
      fail "resume-two-ranks: the journal was not reused"
  fi
else
  wait
  fail "killed: the search never journaled 12 evaluations (exit $(cat "$work/killed.rc" 2>/dev/null))"
fi

# Refusals before any forward (and before the run directory is made).
cp -r "$model" "$work/other-model"
python3 - "$work/other-model/model.safetensors" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:  # the last weight's last byte: still a valid file, another model
    f.seek(-1, 2); b = f.read(1); f.seek(-1, 2); f.write(bytes([b[0] ^ 1]))
PY
refused other-model "rank 2 (" "$work/r1" mpirun -n 2 "$longrope" search "${settings[@]}" --out "$work/r1" : \
  -n 1 "$longrope" search "${settings[@]/$model/$work/other-model}" --out "$work/r1"
grep -qF "another model than rank 0" "$work/err" && ok || fail "other-model: the line does not say what differs"
refused missing-model "rank 1 (" "$work/r2" mpirun -n 1 "$longrope" search "${settings[@]}" --out "$work/r2" : \
  -n 1 "$longrope" search "${settings[@]/$model/$work/no-model}" --out "$work/r2"
grep -qF "no-model" "$work/err" && ok || fail "missing-model: the line does not name the model"
refused other-settings "mutation_probability (was 0.3, now 0.5)" "$work/r3" mpirun -n 1 "$longrope" search "${settings[@]}" --out "$work/r3" : \
  -n 2 "$longrope" search "${settings[@]}" --mutation-prob 0.5 --out "$work/r3"
refused coordinator-alone "--coordinator-only" "$work/r4" mpirun -n 1 "$longrope" search "${settings[@]}" --coordinator-only --out "$work/r4"

echo "mpi_search: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
