#!/usr/bin/env bash
# The range study's curve: every baseline and every searched table of scripts/range_study.sh from L to
# 512·L (64 to 32 768 bytes) on the same held-out windows (books/test, 8 books, one window each after
# the book's first 8192 bytes, every length a prefix of the same window), then the curve's plot and the
# λ plot across ratios. Tables not searched yet are left out, and named. The curve is journaled window
# by window (results/.../curve/curve.journal, commit it to carry it across sessions): rerun to continue.
#   scripts/range_curve.sh [--longrope PATH] [--threads N]
set -euo pipefail
cd "$(dirname "$0")/.."
longrope=build-torch2/longrope threads=2
while (($#)); do
  case $1 in
    --longrope) longrope=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    *) echo "range_curve: unknown option $1" >&2; exit 2 ;;
  esac
done
model=models/shipped/books-bytes-3m-l64
results=results/books-bytes-3m-l64
range=$results/range
out=$results/curve
mkdir -p "$out"
methods=none,pi,ntk,dynamic-ntk,yarn tables=() missing=()
for s in 8 16 32 64 128 256 512; do
  table=$range/${s}x/${s}x-$((s * 64))/table.json
  if [[ -f $table ]]; then methods+=",table:$table" tables+=("$table"); else missing+=("${s}x"); fi
done
((${#missing[@]} == 0)) || echo "range_curve: not searched yet, left out: ${missing[*]}"
"$longrope" curve --model "$model" --data ../shared/data/books/test --docs 8 --skip-tokens 8192 \
  --lengths 64,128,256,512,1k,2k,4k,8k,16k,32k --method "$methods" --threads "$threads" --out "$out/curve" --resume
"$longrope" plot --curve "$out/curve.json" --out "$out/curve.png,$out/curve.svg"
last=${tables[-1]#"$range/"}
"$longrope" plot --tables "$(IFS=,; echo "${tables[*]}")" --out "$results/lambda-8x-${last%%/*}.png,$results/lambda-8x-${last%%/*}.svg"
