#!/usr/bin/env bash
# The range study's tables on text of another kind than the one they were searched on: by default
# tinyshakespeare (verse drama; the searches and held-out windows are Gutenberg prose). For each ratio
# with a searched table, every baseline and the table on the same consecutive windows from the file's
# start (it has no front matter), journaled window by window: rerun to continue. Results land in
# results/books-bytes-3m-l64/range/other-NAME/heldout-RATIOx.json; scripts/range_report.py reports them
# with intervals over windows and over blocks of 4 consecutive windows.
#   scripts/range_other_text.sh [--longrope PATH] [--data FILE] [--name NAME] [--windows N] [--ratios "8 16"] [--threads N]
# (The model reads one token per byte, so the file's size in bytes is its length in tokens.)
set -euo pipefail
cd "$(dirname "$0")/.."
longrope=build-torch2/longrope data=../shared/data/tinyshakespeare.txt name=tinyshakespeare windows=32
ratios="8 16 32 64 128 256 512" threads=2
while (($#)); do
  case $1 in
    --longrope) longrope=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --name) name=$2; shift 2 ;;
    --windows) windows=$2; shift 2 ;;
    --ratios) ratios=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    *) echo "range_other_text: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -f $data ]] || { echo "range_other_text: $data: not a file (give one text file)" >&2; exit 1; }
model=models/shipped/books-bytes-3m-l64
range=results/books-bytes-3m-l64/range
out=$range/other-$name
mkdir -p "$out"
bytes=$(stat -c %s "$data")
for s in $ratios; do
  length=$((s * 64))
  table=$range/${s}x/${s}x-$length/table.json
  [[ -f $table ]] || { echo "range_other_text: ${s}x not searched yet, left out"; continue; }
  [[ -f $out/heldout-${s}x.json ]] && continue
  # As many windows as the file holds, up to --windows (the file is one document, BOS once per window).
  n=$(( bytes / length < windows ? bytes / length : windows ))
  ((n >= 1)) || { echo "range_other_text: $data is shorter than $length bytes, ${s}x left out"; continue; }
  echo "== ${s}x ($length bytes): $n windows of $name =="
  "$longrope" eval --model "$model" --data "$data" --docs 1 --windows "$n" --length "$length" \
    --method "none,pi,ntk,dynamic-ntk,yarn,table:$table" --threads "$threads" \
    --json "$out/heldout-${s}x.json" --resume | tee "$out/heldout-${s}x.txt"
done
