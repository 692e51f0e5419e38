#!/usr/bin/env bash
# The default job: an 8x LongRoPE search for the shipped small model on text every Debian/Ubuntu
# machine has (the licence texts in /usr/share/common-licenses: long English prose, present without
# network), then the perplexity table of none / PI / NTK / dynamic NTK / YaRN / LongRoPE.
# Usage: scripts/demo.sh [RUN_DIR]   (default runs/demo; an earlier demo there is replaced)
set -euo pipefail
cd "$(dirname "$0")/.."
model=models/shipped/books-bytes-3m
run=${1:-runs/demo}
licenses=/usr/share/common-licenses
[[ -x build/longrope ]] || { echo "demo: build first (scripts/build.sh)" >&2; exit 1; }
[[ -f $model/config.json ]] || { echo "demo: $model is missing" >&2; exit 1; }

# Search on five licences, report on five others (no document is in both sets).
rm -rf "$run"
mkdir -p "$run/data/search" "$run/data/heldout"
for f in GPL-3 LGPL-2.1 MPL-1.1 GFDL-1.3 GPL-2; do cp "$licenses/$f" "$run/data/search/$f.txt"; done
for f in LGPL-2 GFDL-1.2 MPL-2.0 GPL-1 Apache-2.0; do cp "$licenses/$f" "$run/data/heldout/$f.txt"; done

cat <<MSG
demo: 8x extension of $model (trained at 256 bytes of context) to 2048.
demo: reduced search for a 2-core machine: population 24, 8 generations of 8 mutants + 8 crossovers
      from the best 12 (the paper: 64, 40, 16 + 16, 32); 5 search documents, 5 held-out.
MSG
build/longrope search --model "$model" --data "$run/data/search" --heldout "$run/data/heldout" \
  --target 8x --out "$run/search" --docs 5 --population 24 --generations 8 --mutants 8 --crossovers 8 \
  --parents 12 --seed 42
echo
echo "demo: tables in $run/search/8x-2048/ (table.json, result_final.csv, generations.jsonl)"
