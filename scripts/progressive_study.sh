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
#   6. the first stage's controls: a fine-tune with YaRN at 512 then every baseline at 64x on that model;
#      the baselines composed over the 8x table on the model fine-tuned with it (--compose-with); and a
#      direct (not composed) 64x search on the fine-tuned model;
# Everything resumes (rerun to continue). Results land in results/books-bytes-3m-l64/progressive/;
# the fine-tuned models are kept there in f16 (6 MB each), outside git: a missing one is fine-tuned again
# (the same seed; its bits may differ on another CPU: results/books-bytes-3m-l64/README.md has the sha256
# of the ones behind its numbers).
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

# finetune NAME INIT_MODEL CONTEXT BATCH JSON ROPE...: 200 steps of BATCH x CONTEXT bytes with ROPE applied
# (--table T, or --method yarn --scale S), kept in f16 as $out/model-NAME (not in git: made again here when
# missing; the run itself, resumable, under runs/progressive-NAME).
finetune() {
  local tuned=$out/model-$1 work=runs/progressive-$1 resume=() init=$2 context=$3 batch=$4 json=$5
  shift 5
  [[ -f $tuned/config.json ]] && return
  [[ -d $work/train_state ]] && resume=(--resume)
  "$longrope" train --data "$books/train" --valid "$books/valid" --out "$work" --init "$init" "$@" --context "$context" \
    --batch "$batch" --steps 200 --lr 3e-4 --min-lr 3e-5 --warmup 20 --eval-every 50 --eval-batches 8 --checkpoint-every 25 \
    --seed 0 --threads "$threads" --json "$json" "${resume[@]}"
  "$longrope" convert --model "$work" --out "$tuned" --dtype f16
}

echo "== 1. fine-tune at 512 with the 8x table =="
tuned=$out/model-ft512
finetune ft512 "$model" 512 16 "$out/finetune.json" --table "$first"

run_search() {  # run_search NAME MODEL RATIO INIT_TABLE [SEARCH SETTINGS...]; INIT_TABLE "": a direct search
  local dir=$out/$1 resume=() name=$1 model=$2 ratio=$3 init=()
  [[ -n $4 ]] && init=(--init-table "$4" --compose)
  shift 4
  local settings=("$@")
  ((${#settings[@]})) || settings=("${search[@]}")
  [[ -d $dir ]] && resume=(--resume)
  echo "== search $ratio: $name =="
  "$longrope" search --model "$model" --data "$books/valid" --target "$ratio" "${init[@]}" --out "$dir" \
    "${resume[@]}" "${settings[@]}" | tee "$dir.summary.txt"
}
run_search progressive-64x "$model" 64x "$first"
run_search progressive-finetuned-64x "$tuned" 64x "$first"

evaluate() {  # evaluate NAME MODEL LENGTH METHODS [EVAL OPTIONS...]
  local name=$1 model=$2 length=$3 methods=$4
  shift 4
  [[ -f $out/$name.json ]] && return
  echo "== held out: $name =="
  "$longrope" eval --model "$model" --length "$length" --method "$methods" "${heldout[@]}" "$@" --json "$out/$name.json" --resume |
    tee "$out/$name.txt"
}
# (The first files were scored with dynamic NTK too; the report leaves it out.)
baselines=none,pi,ntk,yarn
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
finetune ft4096 "$tuned" 4096 2 "$out/finetune-4096.json" --table "$second"
run_search progressive-512x "$model" 512x "$out/progressive-64x/64x-4096/table.json" "${halved[@]}"
run_search progressive-finetuned-512x "$tuned2" 512x "$second" "${halved[@]}"
evaluate heldout-512x-progressive "$model" 32768 "table:$out/progressive-512x/512x-32768/table.json"
evaluate heldout-512x-progressive-finetuned "$tuned2" 32768 "ntk,yarn,table:$out/progressive-finetuned-512x/512x-32768/table.json"
evaluate short-64-finetuned-4096 "$tuned2" 64 none

echo "== 6. the first stage's controls =="
# (a) YaRN's own fine-tune: the same 200 steps at 512 with YaRN (s = 8) applied instead of the 8x table,
#     then every baseline at 64x on that model: what fine-tuning gives a baseline.
finetune ft512-yarn "$model" 512 16 "$out/finetune-yarn.json" --method yarn --scale 8
evaluate heldout-64x-yarn-finetuned "$out/model-ft512-yarn" 4096 "$baselines"
# (b) the baselines on top of the table the model was fine-tuned with (λ8x ⊙ the baseline's λ for the 8x
#     left to extend, attention factors multiplied): what the progressive table's own baselines are.
evaluate heldout-64x-composed-baselines "$tuned" 4096 "$baselines" --compose-with "$first"
# (c) a direct 64x search on the fine-tuned model, not composed over the 8x table.
run_search direct-finetuned-64x "$tuned" 64x ""
evaluate heldout-64x-direct-finetuned "$tuned" 4096 "table:$out/direct-finetuned-64x/64x-4096/table.json"
