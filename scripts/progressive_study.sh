#!/usr/bin/env bash
# LongRoPE's progressive recipe (§3.3) at small scale, on the geometry-matched model
# (models/shipped/books-bytes-3m-l64, L = 64):
#   1. fine-tune at 8x L = 512 with the 8x table of the range study applied (train --init --table);
#   2. search 64x twice from that 8x table (--init-table --compose: λ = λ8x·λ2): on the model as
#      trained (progressive, no fine-tune) and on the fine-tuned model (progressive, fine-tuned);
#   3. score both, and every baseline, on the range study's held-out windows (books/test, 8 x 8 body
#      windows), beside the direct 64x search of the range study;
#   4. short-context recovery: both models at L with plain RoPE on the same books, and the fine-tuned
#      model's short table (search --short, the paper's Table 10; searched beside 8x on that model)
#      against plain RoPE and the 8x table it was fine-tuned with;
#   5. the second stage, to 512x: fine-tune the fine-tuned model again at 64x L = 4096 with its 64x
#      table (the same 1.64M tokens: batch 2 instead of 16), search 512x from each route's 64x table
#      (no fine-tune: the original model; fine-tuned: the model fine-tuned twice), and score them at
#      32 768 on the held-out windows. These searches take the paper's own reduction for its longest
#      windows (population, mutants and crossovers halved, 3 documents: P16, N1 = N2 = 4, top 8,
#      10 generations, 288 forwards of 32 768 bytes instead of 960). The original model's baselines
#      there are the range study's (heldout-512x.json, the same windows): only the table is scored
#      again; on the twice fine-tuned model the table is scored beside NTK and YaRN, the only
#      baselines that have not collapsed at 512x. Then the twice fine-tuned model at L, plain RoPE.
# Everything resumes (rerun to continue). Results land in results/books-bytes-3m-l64/progressive/;
# the fine-tuned model is kept there in f16 (6 MB), so that a later session can search it again.
#   scripts/progressive_study.sh [--longrope PATH] [--threads N]
set -euo pipefail
cd "$(dirname "$0")/.."
longrope=build-torch2/longrope threads=2
while (($#)); do
  case $1 in
    --longrope) longrope=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    *) echo "progressive_study: unknown option $1" >&2; exit 2 ;;
  esac
done
model=models/shipped/books-bytes-3m-l64
books=../shared/data/books
range=results/books-bytes-3m-l64/range
out=results/books-bytes-3m-l64/progressive
first=$range/8x/8x-512/table.json
[[ -f $first ]] || { echo "progressive_study: run scripts/range_study.sh --ratios 8 first ($first)" >&2; exit 1; }
mkdir -p "$out"
# The range study's search settings; stage 2 halves population, mutants, crossovers and documents.
common=(--skip-tokens 8192 --generations 10 --seed 42 --threads "$threads")
search=(--docs 5 --population 32 --mutants 8 --crossovers 8 --parents 16 "${common[@]}")
halved=(--docs 3 --population 16 --mutants 4 --crossovers 4 --parents 8 "${common[@]}")
heldout=(--data "$books/test" --docs 8 --windows 8 --skip-tokens 8192 --threads "$threads")

# finetune NAME INIT_MODEL TABLE CONTEXT BATCH JSON: 200 steps of BATCH x CONTEXT bytes with TABLE applied,
# kept in f16 as $out/model-NAME (the run itself, resumable, under runs/progressive-NAME).
finetune() {
  local tuned=$out/model-$1 work=runs/progressive-$1 resume=()
  [[ -f $tuned/config.json ]] && return
  [[ -d $work/train_state ]] && resume=(--resume)
  "$longrope" train --data "$books/train" --valid "$books/valid" --out "$work" --init "$2" --table "$3" --context "$4" \
    --batch "$5" --steps 200 --lr 3e-4 --min-lr 3e-5 --warmup 20 --eval-every 50 --eval-batches 8 --checkpoint-every 25 \
    --seed 0 --threads "$threads" --json "$6" "${resume[@]}"
  "$longrope" convert --model "$work" --out "$tuned" --dtype f16
}

echo "== 1. fine-tune at 512 with the 8x table =="
tuned=$out/model-ft512
finetune ft512 "$model" "$first" 512 16 "$out/finetune.json"

run_search() {  # run_search NAME MODEL RATIO INIT_TABLE [SEARCH SETTINGS...]
  local dir=$out/$1 resume=() name=$1 model=$2 ratio=$3 init=$4
  shift 4
  local settings=("$@")
  ((${#settings[@]})) || settings=("${search[@]}")
  [[ -d $dir ]] && resume=(--resume)
  echo "== search $ratio: $name =="
  "$longrope" search --model "$model" --data "$books/valid" --target "$ratio" --init-table "$init" --compose --out "$dir" \
    "${resume[@]}" "${settings[@]}" | tee "$dir.summary.txt"
}
run_search progressive-64x "$model" 64x "$first"
run_search progressive-finetuned-64x "$tuned" 64x "$first"

evaluate() {  # evaluate NAME MODEL LENGTH METHODS
  [[ -f $out/$1.json ]] && return
  echo "== 3/4. held out: $1 =="
  "$longrope" eval --model "$2" --length "$3" --method "$4" "${heldout[@]}" --json "$out/$1.json" --resume | tee "$out/$1.txt"
}
baselines=none,pi,ntk,dynamic-ntk,yarn
evaluate heldout-64x-progressive "$model" 4096 "$baselines,table:$out/progressive-64x/64x-4096/table.json"
evaluate heldout-64x-progressive-finetuned "$tuned" 4096 "$baselines,table:$out/progressive-finetuned-64x/64x-4096/table.json"
evaluate short-64-original "$model" 64 none
evaluate short-64-finetuned "$tuned" 64 none
short=$out/finetuned-short
if [[ ! -f $short/short-64/table.json ]]; then
  resume=()
  [[ -d $short ]] && resume=(--resume)
  echo "== 4. short table of the fine-tuned model =="
  "$longrope" search --model "$tuned" --data "$books/valid" --target 8x --short --out "$short" "${resume[@]}" "${search[@]}" |
    tee "$short.summary.txt"
fi
evaluate short-64-finetuned-tables "$tuned" 64 "none,table:$short/short-64/table.json,table:$first"

echo "== 5. fine-tune at 4096 with the fine-tuned model's 64x table =="
second=$out/progressive-finetuned-64x/64x-4096/table.json
tuned2=$out/model-ft4096
finetune ft4096 "$tuned" "$second" 4096 2 "$out/finetune-4096.json"
run_search progressive-512x "$model" 512x "$out/progressive-64x/64x-4096/table.json" "${halved[@]}"
run_search progressive-finetuned-512x "$tuned2" 512x "$second" "${halved[@]}"
evaluate heldout-512x-progressive "$model" 32768 "table:$out/progressive-512x/512x-32768/table.json"
evaluate heldout-512x-progressive-finetuned "$tuned2" 32768 "ntk,yarn,table:$out/progressive-finetuned-512x/512x-32768/table.json"
evaluate short-64-finetuned-4096 "$tuned2" 64 none
