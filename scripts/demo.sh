#!/usr/bin/env bash
# The default job: an 8x LongRoPE search for the shipped small model on text every Debian/Ubuntu
# machine has (the licence texts in /usr/share/common-licenses: long English prose, present without
# network), then the perplexity table of none / PI / NTK / dynamic NTK / YaRN / LongRoPE.
# Usage: scripts/demo.sh [RUN_DIR]   (default runs/demo; an earlier demo there is replaced)
# LONGROPE names the binary (default: build-torch2/longrope if built, else build/longrope).
set -euo pipefail
cd "$(dirname "$0")/.."
model=models/shipped/books-bytes-3m
run=${1:-runs/demo}
licenses=/usr/share/common-licenses
longrope=${LONGROPE:-$([[ -x build-torch2/longrope ]] && echo build-torch2/longrope || echo build/longrope)}
[[ -x $longrope ]] || { echo "demo: build first (scripts/setup.sh or scripts/build.sh)" >&2; exit 1; }
[[ -f $model/config.json ]] || { echo "demo: $model is missing" >&2; exit 1; }

# Search on five licences, report on five others (no document is in both sets).
rm -rf "$run"
mkdir -p "$run/data/search" "$run/data/heldout"
for f in GPL-3 LGPL-2.1 MPL-1.1 GFDL-1.3 GPL-2; do cp "$licenses/$f" "$run/data/search/$f.txt"; done
for f in LGPL-2 GFDL-1.2 MPL-2.0 GPL-1 Apache-2.0; do cp "$licenses/$f" "$run/data/heldout/$f.txt"; done

cat <<MSG
demo: 8x extension of $model (trained at 256 bytes of context) to 2048.
demo: reduced search for a 2-core machine: population 16, 6 generations of 6 mutants + 6 crossovers
      from the best 8 (the paper: 64, 40, 16 + 16, 32); 3 search documents, 3 held-out.
MSG
"$longrope" search --model "$model" --data "$run/data/search" --heldout "$run/data/heldout" \
  --target 8x --out "$run/search" --docs 3 --population 16 --generations 6 --mutants 6 --crossovers 6 \
  --parents 8 --seed 42
table=$run/search/8x-2048/table.json
"$longrope" plot --tables "$table" --out "$run/lambda.png,$run/lambda.svg" >/dev/null
"$longrope" plot --progress "$run/search/8x-2048/generations.jsonl" --out "$run/progress.png,$run/progress.svg" >/dev/null
echo
echo "demo: table in $table (and result_final.csv, generations.jsonl beside it); plots in $run/*.png and *.svg"
echo "demo: export it with $longrope export --table $table --format hf --config $model/config.json --out $run/config.json"
echo "      (add --drop-start-tokens when the table has n̂ > 0: no runtime can honour n̂)"
