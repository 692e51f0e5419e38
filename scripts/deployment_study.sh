#!/usr/bin/env bash
# What a deployment gets (results/deployment.md): three cases, each searched for a deployment and
# scored held out as each runtime runs the exported config, from L/2 to sL.
#   shipped-8x   models/shipped/books-bytes-3m (L = 256) at 8x
#   l64-16x      models/shipped/books-bytes-3m-l64 (L = 64) at 16x
#   l64-64x      the same model at 64x
# For each:
#   1. `search --deploy transformers --short`: n̂ = 0, each candidate scored as the mean NLL over the
#      serve lengths 2L .. sL (log-spaced), then a short table at L under the long table's attention
#      factor; books/valid, 5 body windows, P32/T10 (the range study's settings), seed 42. At these serve
#      lengths transformers, vLLM (--max-model-len sL) and llama.cpp (n_ctx = the window) all run the
#      long factors, so one deploy search serves the three; they differ at L and below.
#   2. `curve --runtime R` for R in transformers, vllm, llama.cpp on books/test (8 books x 8 body
#      windows) at L/2, L, 2L .. sL (vLLM and llama.cpp at L/2 and L only: beyond L all three run the
#      long factors): plain RoPE, YaRN(s) and NTK(s) as configs hold them (fixed s), the
#      deploy-searched table, and the sL-searched table with n̂ dropped (no runtime has it);
#   3. the sL-searched table as searched (with its n̂, our forward) at sL, for what n̂ = 0 costs.
# scripts/deployment_report.py then writes results/deployment.md from the curves (intervals from
# `longrope compare`, over books). Everything resumes: rerun to continue.
#   scripts/deployment_study.sh [--longrope PATH] [--threads N] [--cases "shipped-8x l64-16x l64-64x"]
set -euo pipefail
cd "$(dirname "$0")/.."
longrope=build-torch2/longrope threads=2 cases="shipped-8x l64-16x l64-64x"
while (($#)); do
  case $1 in
    --longrope) longrope=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --cases) cases=$2; shift 2 ;;
    *) echo "deployment_study: unknown option $1" >&2; exit 2 ;;
  esac
done
books=../shared/data/books
data_args=(--docs 8 --windows 8 --skip-tokens 8192)

for case in $cases; do
  case $case in
    shipped-8x) model=models/shipped/books-bytes-3m s=8 searched=results/books-bytes-3m/8x-2048/table.json ;;
    l64-16x) model=models/shipped/books-bytes-3m-l64 s=16 searched=results/books-bytes-3m-l64/range/16x/16x-1024/table.json ;;
    l64-64x) model=models/shipped/books-bytes-3m-l64 s=64 searched=results/books-bytes-3m-l64/range/64x/64x-4096/table.json ;;
    *) echo "deployment_study: unknown case $case" >&2; exit 2 ;;
  esac
  original=$(python3 -c "import json; print(json.load(open('$model/config.json'))['max_position_embeddings'])")
  target=$((s * original))
  out=results/deployment/$case
  run=$out/search
  mkdir -p "$out"
  echo "== $case: search for a deployment =="
  resume=()
  [[ -d $run ]] && resume=(--resume)
  "$longrope" search --model "$model" --data "$books/valid" --target "${s}x" --out "$run" "${resume[@]}" --deploy transformers \
    --short --docs 5 --skip-tokens 8192 --population 32 --generations 10 --mutants 8 --crossovers 8 --parents 16 --seed 42 \
    --threads "$threads" | tee "$run.summary.txt"
  deployed=$run/${s}x-$target/table.json
  lengths=$((original / 2))
  for ((l = original; l <= target; l *= 2)); do lengths+=",$l"; done
  methods="none,yarn,ntk,table:$deployed,table:$searched"
  for runtime in transformers vllm llama.cpp; do
    curve=$out/curve-$runtime
    [[ -f $curve.json ]] && continue
    # Beyond L the three rules run the same long factors (transformers by the sequence, vLLM by
    # --max-model-len = sL, llama.cpp by n_ctx = the window): the L = 64 model's 16x curves are identical
    # there under all three. vLLM and llama.cpp are scored where they differ, at L/2 and L, and
    # deployment_report.py takes the longer lengths from transformers' curve.
    runtime_lengths=$lengths
    [[ $runtime == transformers ]] || runtime_lengths="$((original / 2)),$original"
    echo "== $case: held out as $runtime runs it =="
    "$longrope" curve --model "$model" --data "$books/test" "${data_args[@]}" --lengths "$runtime_lengths" --method "$methods" \
      --runtime "$runtime" --threads "$threads" --out "$curve" --resume
  done
  [[ -f $out/searched-as-searched.json ]] ||
    "$longrope" eval --model "$model" --data "$books/test" "${data_args[@]}" --length "$target" --method "table:$searched" \
      --threads "$threads" --json "$out/searched-as-searched.json" --resume
done
