#!/usr/bin/env bash
# The whole range, 8x to 512x, on the geometry-matched model (models/shipped/books-bytes-3m-l64: L = 64
# bytes, LLaMA-2-7B's fraction of critical RoPE dimensions). For each ratio in turn:
#   1. a search on books/valid, one window per book after its first 8192 bytes (a Gutenberg book opens
#      with front matter, and at 512 bytes a first window is nothing else), P32/T10 (N1 = N2 = 8, top 16;
#      the paper's 64/40/16/16/32 reduced), validation on later windows, seed 42;
#   2. the winner and every baseline on held-out text: books/test, 8 books x 8 windows from the books'
#      bodies, paired bootstrap intervals (eval's JSON).
# Everything resumes: rerun the script to continue where a kill stopped it (a finished search or
# held-out file is kept; an unfinished held-out scoring continues from its journal). Results land in
# results/books-bytes-3m-l64/range/.
# --optimizer gradient|both searches with 60 gradient steps (a snapshot every 20) instead of, or after,
# the evolution (issue: search cost); its runs are RATIOx-OPTIMIZER and heldout-RATIOx-OPTIMIZER.json.
#   scripts/range_study.sh [--longrope PATH] [--ratios "8 16 32"] [--threads N] [--optimizer NAME]
set -euo pipefail
cd "$(dirname "$0")/.."
longrope=build-torch2/longrope ratios="8 16 32 64 128 256 512" threads=2 optimizer=evolution
while (($#)); do
  case $1 in
    --longrope) longrope=$2; shift 2 ;;
    --ratios) ratios=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --optimizer) optimizer=$2; shift 2 ;;
    *) echo "range_study: unknown option $1" >&2; exit 2 ;;
  esac
done
model=models/shipped/books-bytes-3m-l64
books=../shared/data/books
out=results/books-bytes-3m-l64/range
mkdir -p "$out"
original=$(python3 -c "import json; print(json.load(open('$model/config.json'))['max_position_embeddings'])")
for s in $ratios; do
  length=$((s * original))
  name=${s}x
  optimizer_args=()
  if [[ $optimizer != evolution ]]; then
    name=${s}x-$optimizer
    optimizer_args=(--optimizer "$optimizer" --gradient-steps 60 --gradient-snapshot-every 20)
  fi
  run=$out/$name
  resume=()
  [[ -d $run ]] && resume=(--resume)
  echo "== $name ($length tokens): search =="
  "$longrope" search --model "$model" --data "$books/valid" --target "${s}x" --out "$run" "${resume[@]}" \
    --docs 5 --skip-tokens 8192 --population 32 --generations 10 --mutants 8 --crossovers 8 --parents 16 --seed 42 \
    --threads "$threads" "${optimizer_args[@]}" | tee "$run.summary.txt"
  heldout=$out/heldout-$name.json
  if [[ ! -f $heldout ]]; then
    echo "== $name: held out =="
    # Journaled window by window in $heldout.journal (commit it to carry a long one across sessions).
    "$longrope" eval --model "$model" --data "$books/test" --docs 8 --windows 8 --skip-tokens 8192 --length "$length" \
      --method "none,pi,ntk,dynamic-ntk,yarn,table:$run/${s}x-$length/table.json" --threads "$threads" \
      --json "$heldout" --resume | tee "$out/heldout-$name.txt"
  fi
done
