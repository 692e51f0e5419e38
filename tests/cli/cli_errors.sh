#!/usr/bin/env bash
# Bad input gets one clear error line naming the file or field, a non-zero exit, and no output file.
# Usage: cli_errors.sh PATH/TO/longrope
set -u
longrope=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

# expect NAME EXIT_CODE STDERR_SUBSTRING -- command...
expect() {
  local name=$1 code=$2 needle=$3
  shift 4
  "$@" >"$work/out" 2>"$work/err"
  local got=$?
  local lines
  lines=$(grep -c . "$work/err")
  if [[ $got -eq $code ]] && { [[ -z $needle ]] || cat "$work/out" "$work/err" | grep -qF -- "$needle"; } &&
     [[ $code -eq 0 || $lines -le 2 ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $name: exit $got (want $code), stderr:"; sed 's/^/    /' "$work/err"
  fi
}

cat >"$work/config.json" <<'JSON'
{"vocab_size":256,"hidden_size":32,"intermediate_size":64,"num_hidden_layers":1,"num_attention_heads":4,
 "num_key_value_heads":2,"max_position_embeddings":64,"tie_word_embeddings":true}
JSON
"$longrope" init-model --config "$work/config.json" --out "$work/model" >/dev/null || { echo "init-model failed"; exit 1; }
mkdir -p "$work/data" "$work/empty"
random_text() { head -c $(($1 * 3 / 4 + 4)) /dev/urandom | base64 -w0 | head -c "$1"; }  # documents are text
random_text 5000 >"$work/data/doc.txt"
random_text 100 >"$work/short.txt"
mkdir -p "$work/held" && random_text 5000 >"$work/held/other.txt"

expect no-command 2 "usage" -- "$longrope"
for c in eval search forward convert init-model train tokenize; do expect "help-$c" 0 "" -- "$longrope" "$c" --help; done
expect unknown-command 2 "unknown command" -- "$longrope" nope
expect unknown-option 2 "unrecognised option" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --bogus 1
expect missing-required 2 "--model" -- "$longrope" eval --data "$work/data" --length 64
expect bad-model-path 1 "$work/nope" -- "$longrope" eval --model "$work/nope" --data "$work/data" --length 64 --json "$work/a.json"
expect empty-data 1 "no documents" -- "$longrope" eval --model "$work/model" --data "$work/empty" --length 64 --json "$work/b.json"
expect short-docs 1 "no document has at least 512 tokens" -- "$longrope" eval --model "$work/model" --data "$work/short.txt" --length 512 --json "$work/c.json"
expect length-too-small 2 "--length" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 1
expect bad-method 2 "unknown RoPE method" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --method nope
expect bad-dtype 2 "unknown dtype" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --dtype f8
expect scale-below-one 2 "--scale" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --method pi --scale 0.5
expect longrope-needs-table 2 "--table" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --method longrope
echo '{"lambda": [1.0, "x"]}' >"$work/bad.json"
expect bad-table 1 "bad.json: field 'lambda[1]'" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --method longrope --table "$work/bad.json"
echo '{"lambda": [1.0, 2.0]}' >"$work/short-table.json"
expect table-length 1 "short-table.json: field 'lambda': 2 factors, the model needs rotary_dim/2 = 4" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --method longrope --table "$work/short-table.json"
cp -r "$work/model" "$work/broken"
echo '{"vocab_size": 256' >"$work/broken/config.json"
expect corrupt-config 1 "config.json: not valid JSON" -- "$longrope" eval --model "$work/broken" --data "$work/data" --length 64
cp -r "$work/model" "$work/truncated"
truncate -s 1000 "$work/truncated/model.safetensors"
expect truncated-weights 1 "model.safetensors" -- "$longrope" eval --model "$work/truncated" --data "$work/data" --length 64 --json "$work/d.json"
printf 'GGUF\3\0\0\0\1\0\0\0\0\0\0\0' >"$work/truncated.gguf"
expect truncated-gguf 1 "truncated.gguf" -- "$longrope" eval --model "$work/truncated.gguf" --data "$work/data" --length 64 --json "$work/e.json"
expect missing-tokenizer 2 "nope.json: file does not exist" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --tokenizer "$work/nope.json"
echo '{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "normalizer": {"type": "NFC"}}' >"$work/tokenizer.json"
expect bad-tokenizer 1 "tokenizer.json" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --tokenizer "$work/tokenizer.json" --json "$work/f.json"
for f in a b c d e f; do
  if [[ -e "$work/$f.json" ]] || compgen -G "$work/$f.json.tmp*" >/dev/null; then failed=$((failed + 1)); echo "FAIL: $f.json written after an error"; else passed=$((passed + 1)); fi
done
expect eval-ok 0 "" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --method none,pi,yarn --json "$work/ok.json"
grep -q '"ppl"' "$work/ok.json" && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: ok.json has no ppl"; }

# train: bad shapes and data.
expect train-heads 2 "does not divide" -- "$longrope" train --data "$work/data" --out "$work/t1" --hidden 32 --heads 3 --steps 2
expect train-short-data 1 "fewer than one training window" -- "$longrope" train --data "$work/short.txt" --out "$work/t2" --context 256 --steps 2 --warmup 1
# train --init/--table (continued training with a table): a bad start model or table writes nothing.
repo=$(cd "$(dirname "$0")/../.." && pwd)
shipped=$repo/models/shipped/books-bytes-3m table8x=$repo/results/books-bytes-3m/8x-2048/table.json
expect train-init-missing 1 "nope/config.json" -- "$longrope" train --data "$work/data" --out "$work/t3" --init "$work/nope" --steps 2 --warmup 1
expect train-init-shape 1 "field 'hidden_size': the checkpoint has 32, this run asks for 64" -- "$longrope" train --data "$work/data" --out "$work/t4" --init "$work/model" --hidden 64 --heads 4 --context 32 --steps 2 --warmup 1
expect train-table-no-init 2 "--table needs --init" -- "$longrope" train --data "$work/data" --out "$work/t5" --table "$table8x" --steps 2 --warmup 1
expect train-table-length 1 "table.json" -- "$longrope" train --data "$work/data" --out "$work/t6" --init "$work/model" --table "$table8x" --context 32 --steps 2 --warmup 1
expect train-table-context 2 "--context: 4096 exceeds the target length 2048" -- "$longrope" train --data "$work/data" --out "$work/t7" --init "$shipped" --table "$table8x" --context 4096 --steps 2 --warmup 1
for t in t3 t4 t5 t6 t7; do
  if [[ -e "$work/$t" ]]; then failed=$((failed + 1)); echo "FAIL: $t written after an error"; else passed=$((passed + 1)); fi
done
# convert: a dtype round trip keeps the model loadable.
expect convert-f16 0 "" -- "$longrope" convert --model "$work/model" --out "$work/model-f16" --dtype f16
expect eval-f16-model 0 "" -- "$longrope" eval --model "$work/model-f16" --data "$work/data" --length 64
expect eval-profile 0 "(outside the stages)" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --method none,yarn --profile
expect eval-profile-cuda 2 "--profile times CPU forwards only" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --device cuda --profile

# search: invalid requests write nothing.
small=(--population 4 --generations 1 --mutants 2 --crossovers 2 --parents 2 --docs 1 --threads 1)
few=(--docs 1 --threads 1)  # for --optimizer gradient, which runs no generations to shape
expect search-critical-dim-past 2 "--critical-dim: 4 is not below d/2 = 4" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/s5" --critical-dim 4 "${small[@]}"
expect search-critical-dim-word 2 "--critical-dim: 'half' is not none, auto, auto-K or a pair index" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/s6" --critical-dim half "${small[@]}"
expect search-space-word 2 "--space: 'tiles' is not paper or piecewise" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/s7" --space tiles "${small[@]}"
expect search-critical-dim-offset-word 2 "--critical-dim: 'auto-x' is not none, auto, auto-K or a pair index" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/s6b" --critical-dim auto-x "${small[@]}"
expect search-critical-dim-offset-past 2 "--critical-dim: auto-99: the theoretical value is" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/s6c" --critical-dim auto-99 "${small[@]}"
expect search-critical-dim-offset 0 "" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/s6d" --critical-dim auto-1 "${small[@]}"
# The test model's theoretical value is 2 (4 pairs, L = 64, θ = 10 000): auto-1 searches from pair 1.
grep -q '"critical_dim":1,' "$work"/s6d/*/evaluations.jsonl && passed=$((passed + 1)) ||
  { failed=$((failed + 1)); echo "FAIL: --critical-dim auto-1 did not resolve to pair 1"; }
expect search-space-and-critical 2 "--space: piecewise and --critical-dim are two smaller spaces" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/s8" --space piecewise --critical-dim auto "${small[@]}"
expect search-optimizer-unknown 2 "--optimizer: 'adam' is not evolution, gradient or both" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/s9" --optimizer adam "${small[@]}"
expect search-optimizer-piecewise 2 "--optimizer: gradient steps move every λ; the piecewise space's α and β are discrete" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/s10" --optimizer both --space piecewise "${small[@]}"
expect search-gradient-steps 2 "--gradient-steps: must be positive, got 0" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/s11" --optimizer gradient --gradient-steps 0 "${few[@]}"
expect search-gradient-without-optimizer 2 "--gradient-steps needs --optimizer gradient or both" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/s12" --gradient-steps 10 "${small[@]}"
expect search-gradient-population 2 "--population shapes the evolution; --optimizer gradient runs none" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/s13b" --optimizer gradient "${small[@]}"
expect search-validate-top-without-validation 2 "--validation none has none" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/s13c" --validation none --validate-top 2 "${small[@]}"
expect search-population-below-seeds 2 "--population: 2 cannot hold the 4 seed tables" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/s13d" --population 2 --parents 2 --mutants 1 --crossovers 1 --docs 1 --threads 1
expect search-target-fraction 2 "3.3x: 3.3 × L = 64 is 211.2 tokens, not a whole number" -- "$longrope" search --model "$work/model" --data "$work/data" --target 3.3x --out "$work/s13e" "${small[@]}"
expect search-gradient-critical 2 "--optimizer: gradient steps move every λ; with --critical-dim" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/s13" --optimizer gradient --critical-dim 2 "${few[@]}"
expect search-below-original 2 "not beyond the original length" -- "$longrope" search --model "$work/model" --data "$work/data" --target 32 --out "$work/s1" "${small[@]}"
expect search-short-docs 1 "no document has at least 8192 tokens" -- "$longrope" search --model "$work/model" --data "$work/data" --target 128x --out "$work/s2" "${small[@]}"
expect search-empty-data 1 "no documents" -- "$longrope" search --model "$work/model" --data "$work/empty" --target 2x --out "$work/s3" "${small[@]}"
expect search-bad-model 1 "$work/nope" -- "$longrope" search --model "$work/nope" --data "$work/data" --target 2x --out "$work/s4" "${small[@]}"
expect search-bad-parents 2 "--parents" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/s5" "${small[@]}" --parents 9
expect search-bad-batch 2 "--batch-candidates: must be positive" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/s6" "${small[@]}" --batch-candidates 0
expect search-bad-race-margin 2 "--race-margin: must be a non-negative" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/s7" "${small[@]}" --race-margin -0.1
for d in s1 s2 s3 s4 s5 s6 s7; do
  if [[ -e "$work/$d" ]]; then failed=$((failed + 1)); echo "FAIL: $d created after an error"; else passed=$((passed + 1)); fi
done
# search: a run, then --resume of the finished run reproduces its table; a second run into it is refused.
expect search-ok 0 "" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/run" "${small[@]}"
cp "$work/run/2x-128/table.json" "$work/table-first.json"
expect search-resume 0 "" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/run" "${small[@]}" --resume
cmp -s "$work/run/2x-128/table.json" "$work/table-first.json" && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: resume changed the table"; }
# With racing and batched candidates, a run, its resume, and the counters in the table.
expect search-race-batch 0 "raced out" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/run-race" "${small[@]}" --race-margin 0 --batch-candidates 3
grep -q '"document_forwards"' "$work/run-race/2x-128/table.json" && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: table.json lacks document_forwards"; }
expect search-race-resume 0 "" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/run-race" "${small[@]}" --race-margin 0 --batch-candidates 3 --resume
rm "$work/run-race/2x-128/table.json"  # unfinished again: resuming it checks the settings
expect search-resume-other-margin 1 "race_margin (was 0.0, now 0.5)" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/run-race" "${small[@]}" --race-margin 0.5 --resume
base=(--population 4 --mutants 2 --crossovers 2 --parents 2 --docs 1 --threads 1)
# Baselines and held-out scores are saved per method: a resume reuses them (a planted value comes
# back) and recomputes a file written for other documents.
expect search-heldout 0 "held-out" -- "$longrope" search --model "$work/model" --data "$work/data" --heldout "$work/held" --target 2x --out "$work/run-held" "${base[@]}" --generations 1
rm "$work/run-held/2x-128/table.json"
sed -i 's/"yarn": [0-9][0-9.e+-]*/"yarn": 1234.5/' "$work/run-held/2x-128/heldout.json" "$work/run-held/2x-128/baselines.json"
sed -i 's/"documents": "[0-9a-f]*"/"documents": "0000000000000000"/' "$work/run-held/2x-128/baselines.json"
expect search-heldout-resume 0 "written for other documents" -- "$longrope" search --model "$work/model" --data "$work/data" --heldout "$work/held" --target 2x --out "$work/run-held" "${base[@]}" --generations 1 --resume
# The held-out yarn is reused (the planted value), the search-set one recomputed.
section() { sed -n "/\"$2\": {/,/}/p" "$1"; }  # section FILE FIELD: a flat object of a table.json
section "$work/run-held/2x-128/table.json" heldout_ppl | grep -q '"yarn": 1234.5' &&
  ! section "$work/run-held/2x-128/table.json" search_baselines_ppl | grep -q '"yarn": 1234.5' &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: resume did not reuse held-out / recompute baselines"; }
# Extending it keeps the held-out baselines (the planted value stays); other documents are refused.
expect search-heldout-extend 0 "resuming after generation 1" -- "$longrope" search --model "$work/model" --data "$work/data" --heldout "$work/held" --target 2x --out "$work/run-held" "${base[@]}" --generations 2 --resume
grep -q '"yarn": 1234.5' "$work/run-held/2x-128/table.json" && passed=$((passed + 1)) ||
  { failed=$((failed + 1)); echo "FAIL: extending the search recomputed the held-out baselines"; }
expect search-other-documents 1 "documents (was" -- "$longrope" search --model "$work/model" --data "$work/data" --heldout "$work/held" --target 2x --out "$work/run-held" "${base[@]}" --generations 2 --resume --bos 5
# A finished run resumed with a held-out set it was not scored on gets one, without searching again.
expect search-add-heldout 0 "scoring the winner and baselines on the held-out set" -- "$longrope" search --model "$work/model" --data "$work/data" --heldout "$work/held" --target 2x --out "$work/run" "${small[@]}" --resume
lambda_of() { sed -n '/"lambda": \[/,/\]/p' "$1"; }
section "$work/run/2x-128/table.json" heldout_ppl | grep -q '"longrope"' && [[ -n $(lambda_of "$work/table-first.json") ]] &&
  [[ $(lambda_of "$work/run/2x-128/table.json") == "$(lambda_of "$work/table-first.json")" ]] &&
  [[ $(grep '"evaluations"' "$work/run/2x-128/table.json") == "$(grep '"evaluations"' "$work/table-first.json")" ]] &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: resume with --heldout did not score the held-out set"; }
# A resume with a larger --generations extends a finished search to the table a longer run gives.
expect search-two-generations 0 "" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/run-g2" "${base[@]}" --generations 2
expect search-one-generation 0 "" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/run-g1" "${base[@]}" --generations 1
expect search-extend 0 "resuming after generation 1" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/run-g1" "${base[@]}" --generations 2 --resume
cmp -s "$work/run-g1/2x-128/result_final.csv" "$work/run-g2/2x-128/result_final.csv" && passed=$((passed + 1)) ||
  { failed=$((failed + 1)); echo "FAIL: an extended search differs from a run of its full length"; }
# Perplexity against the searched lengths, drawn from the tables alone.
if command -v gnuplot >/dev/null; then
  expect plot-targets 0 "wrote $work/targets.svg" -- "$longrope" plot --targets "$work/run-held/2x-128/table.json" --out "$work/targets.svg"
  expect plot-targets-search-set 0 "(5 series)" -- "$longrope" plot --targets "$work/run-g1/2x-128/table.json" --set search --out "$work/targets-s.svg"
fi
expect plot-targets-no-heldout 1 "table.json: field 'heldout_ppl'" -- "$longrope" plot --targets "$work/run-g1/2x-128/table.json" --out "$work/t.svg"
expect plot-targets-bad-set 2 "--set: must be heldout or search" -- "$longrope" plot --targets "$work/run-held/2x-128/table.json" --set nope --out "$work/t.svg"
expect plot-targets-same-length 2 "a second table for length 128" -- "$longrope" plot --targets "$work/run-held/2x-128/table.json,$work/run-held/2x-128/table.json" --out "$work/t.svg"
expect plot-two-kinds 2 "exactly one of" -- "$longrope" plot --targets "$work/run-held/2x-128/table.json" --curve x.json --out "$work/t.svg"
expect search-shorten 2 "--generations: 1 is fewer than the 2 generations" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/run-g1" "${base[@]}" --generations 1 --resume
# A run killed before its first checkpoint: the journal alone replays every evaluation, same table.
rm "$work/run-g2/2x-128/state.json" "$work/run-g2/2x-128/table.json"
cp "$work/run-g2/2x-128/result_final.csv" "$work/g2.csv"
expect search-journal-resume 0 "evaluations journaled after the last saved generation are reused" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/run-g2" "${base[@]}" --generations 2 --resume
cmp -s "$work/run-g2/2x-128/result_final.csv" "$work/g2.csv" && passed=$((passed + 1)) ||
  { failed=$((failed + 1)); echo "FAIL: a journal replay changed the table"; }
expect search-not-empty 1 "not empty" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/run" "${small[@]}"
expect eval-searched-table 0 "" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 128 --method longrope --table "$work/run/2x-128/table.json"
expect eval-reference-csv 0 "" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 128 --method longrope --table "$work/run/2x-128/result_final.csv"

# export: tables to config.json / CSV / GGUF; refusals leave the inputs untouched and write nothing.
expect help-export 0 "--gguf-mode" -- "$longrope" export --help
echo '{"lambda": [1.0, 1.5, 2.0, 3.0], "original_length": 64, "target_length": 256, "scale": 4}' >"$work/t4.json"
echo '{"lambda": [1.0, 1.5, 2.0, 3.0], "original_length": 64, "target_length": 256, "scale": 4, "start_tokens": 4}' >"$work/t4-start.json"
cp "$work/model/config.json" "$work/config-orig.json"
expect export-bad-table 1 "bad.json: field 'lambda[1]'" -- "$longrope" export --table "$work/bad.json" --format hf --config "$work/model/config.json" --out "$work/e1.json"
expect export-missing-config 1 "$work/nope/config.json: cannot open" -- "$longrope" export --table "$work/t4.json" --format hf --config "$work/nope/config.json" --out "$work/e2.json"
expect export-needs-config 2 "--config" -- "$longrope" export --table "$work/t4.json" --format hf
expect export-bad-format 2 "unknown format 'onnx'" -- "$longrope" export --table "$work/t4.json" --format onnx --out "$work/e3.json"
expect export-start-tokens 1 "n̂ = 4 cannot be exported" -- "$longrope" export --table "$work/t4-start.json" --format hf --config "$work/model/config.json"
cmp -s "$work/model/config.json" "$work/config-orig.json" && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: refused export changed config.json"; }
expect export-factor-count 1 "needs 4 factors, the table" -- "$longrope" export --table "$work/short-table.json" --format hf --config "$work/model/config.json" --original-length 64 --target-length 256 --out "$work/e4.json"
expect export-gguf-needs-out 2 "--out" -- "$longrope" export --table "$work/t4.json" --format gguf --gguf "$work/model.gguf"
expect export-not-gguf 1 "bad magic" -- "$longrope" export --table "$work/t4.json" --format gguf --gguf "$work/data/doc.txt" --out "$work/e5.gguf"
for f in e1.json e2.json e3.json e4.json e5.gguf; do
  if [[ -e "$work/$f" ]] || compgen -G "$work/$f.tmp*" >/dev/null; then failed=$((failed + 1)); echo "FAIL: $f written after an error"; else passed=$((passed + 1)); fi
done
cp -r "$work/model" "$work/model-8x"
expect export-hf-ok 0 "wrote $work/model-8x/config.json" -- "$longrope" export --table "$work/t4.json" --format hf --config "$work/model-8x/config.json"
grep -q '"rope_type": "longrope"' "$work/model-8x/config.json" && grep -q '"max_position_embeddings": 256' "$work/model-8x/config.json" &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: exported config.json lacks the longrope block"; }
expect eval-exported-config 0 "" -- "$longrope" eval --model "$work/model-8x" --data "$work/data" --length 128 --method config
expect export-drop-start-tokens 0 "WARNING: dropping n̂ = 4" -- "$longrope" export --table "$work/t4-start.json" --format hf --config "$work/model/config.json" --out "$work/dropped.json" --drop-start-tokens
expect export-csv-ok 0 "wrote $work/r.csv" -- "$longrope" export --table "$work/t4.json" --format csv --out "$work/r.csv"
[[ $(wc -l <"$work/r.csv") -eq 4 ]] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: r.csv does not hold 4 factors"; }
expect export-json-from-csv 0 "" -- "$longrope" export --table "$work/r.csv" --format json --out "$work/r.json" --original-length 64 --target-length 256
grep -q '"target_length": 256' "$work/r.json" && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: r.json lacks target_length"; }


# Hardening: hostile inputs get one line naming the file and field (or the option), a non-zero exit,
# and nothing half-written; no run or model directory has two writers.
absent() { for f in "$@"; do if [[ -e $f ]] || compgen -G "$f.tmp*" >/dev/null; then failed=$((failed + 1)); echo "FAIL: $f written after an error"; else passed=$((passed + 1)); fi; done; }
set_config() {  # set_config DIR KEY VALUE: a copy of the tiny model with one config.json field changed
  rm -rf "$1" && cp -r "$work/model" "$1" && sed -i "s/\"$2\": [^,}]*/\"$2\": $3/" "$1/config.json"
  grep -q "\"$2\": $3" "$1/config.json" || { echo "set_config: $2 not set"; exit 1; }
}
set_config "$work/heads0" num_attention_heads 0
expect heads-zero-eval 1 "config.json: field 'num_attention_heads': must be positive" -- "$longrope" eval --model "$work/heads0" --data "$work/data" --length 64
expect heads-zero-search 1 "config.json: field 'num_attention_heads': must be positive" -- "$longrope" search --model "$work/heads0" --data "$work/data" --target 2x --out "$work/h-search" "${small[@]}"
expect heads-zero-convert 1 "field 'num_attention_heads'" -- "$longrope" convert --model "$work/heads0" --out "$work/h-convert"
expect heads-zero-init 1 "field 'num_attention_heads'" -- "$longrope" init-model --config "$work/heads0/config.json" --out "$work/h-init"
absent "$work/h-search" "$work/h-convert" "$work/h-init"
set_config "$work/bert" model_type '"bert"'
expect model-type-bert 1 "field 'model_type': 'bert' is not supported" -- "$longrope" eval --model "$work/bert" --data "$work/data" --length 64
set_config "$work/eps" rms_norm_eps -1
expect rms-eps-negative 1 "field 'rms_norm_eps'" -- "$longrope" eval --model "$work/eps" --data "$work/data" --length 64
sed 's/"num_hidden_layers": *1/"num_hidden_layers": 2/' "$work/config.json" >"$work/config2.json"
"$longrope" init-model --config "$work/config2.json" --out "$work/model2" >/dev/null
set_config "$work/fewer" num_hidden_layers 1 && cp "$work/model2/model.safetensors" "$work/fewer/"
expect config-fewer-layers 1 "tensor 'model.layers.1." -- "$longrope" eval --model "$work/fewer" --data "$work/data" --length 64
# Tables: factors >= 1 and non-decreasing, n̂ a whole number within L, the model's own base.
table_with() { echo "{\"lambda\": $2, \"original_length\": 64, \"target_length\": 128, \"scale\": 2 $3}" >"$work/$1.json"; }
table_with decreasing '[1.0, 2.0, 1.5, 3.0]' ''
table_with below-one '[0.5, 1.0, 1.5, 2.0]' ''
table_with fractional '[1.0, 1.5, 2.0, 3.0]' ', "start_tokens": 2.5'
table_with huge-start '[1.0, 1.5, 2.0, 3.0]' ', "start_tokens": 1e9'
table_with other-base '[1.0, 1.5, 2.0, 3.0]' ', "rope_base": 500000'
table_with overflow '[1.0, 1.5, 2.0, 1e999]' ''
expect table-decreasing 1 "decreasing.json: field 'lambda[2]': 1.5 is below the factor before it" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 128 --method table:"$work/decreasing.json"
expect table-below-one 1 "below-one.json: field 'lambda[0]': 0.5 is below 1" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 128 --method table:"$work/below-one.json"
expect table-fractional-start 1 "fractional.json: field 'start_tokens': expected a whole number" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 128 --method table:"$work/fractional.json"
expect table-huge-start 1 "huge-start.json: field 'start_tokens': 1000000000 is outside [0, 128]" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 128 --method table:"$work/huge-start.json"
expect table-other-base 1 "other-base.json: field 'rope_base': the table was searched for base 500000" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 128 --method table:"$work/other-base.json"
expect table-overflow 1 "overflow.json: not valid JSON" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 128 --method table:"$work/overflow.json"
expect export-decreasing 1 "decreasing.json: field 'lambda[2]'" -- "$longrope" export --table "$work/decreasing.json" --format csv --out "$work/x1.csv"
printf '1.0\n2.0\n1.5\n3.0\n' >"$work/decreasing.csv"
expect csv-decreasing 1 "decreasing.csv: line 3: 1.5 is below the factor before it" -- "$longrope" export --table "$work/decreasing.csv" --format json --out "$work/x2.json" --original-length 64 --target-length 128
expect export-json-no-lengths 2 "--original-length: $work/r.csv: unknown (the table and the model file lack it)" -- "$longrope" export --table "$work/r.csv" --format json --out "$work/x3.json"
expect export-json-short-target 1 "r.csv: target_length: 16 is not beyond the original length 64" -- "$longrope" export --table "$work/r.csv" --format json --out "$work/x4.json" --original-length 64 --target-length 16
absent "$work/x1.csv" "$work/x2.json" "$work/x3.json" "$work/x4.json"
# Options out of range.
expect loss-chunk-zero 2 "--loss-chunk: must be positive, got 0" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --loss-chunk 0
expect loss-chunk-negative 2 "--loss-chunk: must be positive, got -5" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --loss-chunk -5
expect start-tokens-negative 2 "--start-tokens must be >= 0, or -1" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 128 --method table:"$work/t4.json" --start-tokens -7
unsized=(--generations 1 --mutants 2 --crossovers 2 --docs 1 --threads 1)
expect population-one 2 "--population: must be at least 2, got 1" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/p1" "${unsized[@]}" --population 1 --parents 1
expect population-below-seeds 2 "--population: 3 cannot hold the 4 seed tables" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/p3" "${unsized[@]}" --population 3 --parents 2 --validate-top 2
expect objective-unknown 2 "--objective: 'recall' is not ppl or needle" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/p6" "${small[@]}" --objective recall
expect windows-zero 2 "--windows: must be positive, got 0" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/p7" "${small[@]}" --windows 0
expect eval-windows-zero 2 "--windows: must be positive, got 0" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --windows 0 --json "$work/w0.json"
expect validate-top-over-population 2 "--validate-top: 5 exceeds the population (4)" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/p8" "${small[@]}" --validate-top 5
expect validation-too-short 1 "short.txt: no document has at least 128 tokens" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/p9" "${small[@]}" --validation "$work/short.txt"
expect target-not-a-ratio 2 "--target: 'abcx' is not a ratio" -- "$longrope" search --model "$work/model" --data "$work/data" --target abcx --out "$work/p4" "${small[@]}"
expect bos-not-an-id 2 "--bos: '4k' is not auto, none or a token id" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --bos 4k
expect curve-same-length 2 "--lengths: 128 is given twice" -- "$longrope" curve --model "$work/model" --data "$work/data" --lengths 64,128,128 --out "$work/c1"
expect convert-shard-negative 2 "--shard-mb must be in [0, 2^20] (0: one file), got -1" -- "$longrope" convert --model "$work/model" --out "$work/cv1" --shard-mb -1
expect devices-without-cuda 2 "--devices: cuda:0: this build or machine has no CUDA" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/p5" "${small[@]}" --devices cuda:0,cuda:1
expect device-nonsense 2 "--device: 'gpu7' is not a device" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --device gpu7
absent "$work/p1" "$work/p3" "$work/p4" "$work/p5" "$work/p6" "$work/p7" "$work/p8" "$work/p9" "$work/w0.json" "$work/c1.csv" "$work/cv1"
# Data that is not this model's.
{ printf '{"model":{"type":"BPE","vocab":{"t0":0'; for i in $(seq 299); do printf ',"t%d":%d' "$i" "$i"; done
  printf '},"merges":[]},"pre_tokenizer":{"type":"ByteLevel"},"decoder":{"type":"ByteLevel"}}\n'; } >"$work/big-tokenizer.json"
expect tokenizer-too-big 1 "big-tokenizer.json: vocabulary of 300 tokens, but the model" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --tokenizer "$work/big-tokenizer.json"
npy_i32() {  # npy_i32 FILE: a 1-D int32 .npy of the ids 1 and -3
  { printf '\x93NUMPY\x01\x00\x76\x00'; printf '%-117s\n' "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }"; printf '\x01\x00\x00\x00\xfd\xff\xff\xff'; } >"$1"
}
npy_i32 "$work/negative.npy"
expect npy-negative-id 1 "negative.npy: token id -3 at index 1 is negative" -- "$longrope" forward --model "$work/model" --tokens "$work/negative.npy" --out "$work/n.npy"
head -c 40000 /dev/zero >"$work/long.u16"
expect forward-too-long 2 "20000 tokens, more than --max-tokens 16384" -- "$longrope" forward --model "$work/model" --tokens "$work/long.u16" --out "$work/l.npy"
absent "$work/n.npy" "$work/l.npy"
# Half-written output.
expect search-step-zero 2 "--step: must be a positive number" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/st" "${small[@]}" --step 0
expect search-bound-bogus 2 "--bound: 'bogus' is not paper or reference" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/st" "${small[@]}" --bound bogus
absent "$work/st"
expect search-out-file 1 "exists and is not a directory" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/short.txt" "${small[@]}"
expect plot-bad-extension 2 "x.jpg: plots are written as .png or .svg" -- "$longrope" plot --tables "$work/t4.json" --out "$work/x.png,$work/x.jpg"
absent "$work/x.png" "$work/x.png.dat" "$work/x.jpg" "$work/x.jpg.dat"
mkdir -p "$work/P.json"
expect curve-json-is-dir 1 "P.json: is a directory" -- "$longrope" curve --model "$work/model" --data "$work/data" --lengths 64 --out "$work/P"
absent "$work/P.csv"
# One writer per run or model directory: a second is refused at once with the holder's pid, and a
# model directory is never overwritten by a fresh job.
if command -v flock >/dev/null; then
  expect search-second-writer 1 "another longrope (pid" -- flock "$work/run" "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/run" "${small[@]}" --resume
  expect train-second-writer 1 "another longrope (pid" -- flock "$work/model-f16" "$longrope" train --data "$work/data" --out "$work/model-f16" --hidden 32 --heads 4 --kv-heads 2 --layers 1 --context 32 --steps 2 --warmup 1 --resume
fi
expect train-over-model 1 "model-f16: already holds a model" -- "$longrope" train --data "$work/data" --out "$work/model-f16" --hidden 32 --heads 4 --kv-heads 2 --layers 1 --context 32 --steps 2 --warmup 1
expect convert-over-model 1 "model-8x: already holds a model" -- "$longrope" convert --model "$work/model" --out "$work/model-8x"
expect init-over-model 1 "model-8x: already holds a model" -- "$longrope" init-model --config "$work/config.json" --out "$work/model-8x"
# Resume: the documents decide, not the path that names them; a damaged state says how to recover.
(cd "$work" && "$longrope" search --model model --data data --target 2x --out rel "${small[@]}" >/dev/null 2>&1)
rm "$work/rel/2x-128/table.json"
expect resume-absolute-paths 0 "" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/rel" "${small[@]}" --resume
rm "$work/rel/2x-128/table.json"
sed -i 's/"completed_generations":1/"completed_generations":15/' "$work/rel/2x-128/state.json"
expect resume-edited-state 1 "state.json: field 'checksum': does not match" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/rel" "${small[@]}" --resume
truncate -s 50 "$work/rel/2x-128/state.json"
expect resume-truncated-state 1 "remove it and resume again" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/rel" "${small[@]}" --resume
rm "$work/rel/2x-128/state.json"
expect resume-from-journal 0 "evaluations journaled after the last saved generation are reused" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/rel" "${small[@]}" --resume


# From a hostile sweep: inputs that were accepted, overwritten or unclear.
cp "$work/data/doc.txt" "$work/victim.txt"
expect tokenize-over-input 2 "--output $work/victim.txt is the file --input reads" -- "$longrope" tokenize --tokenizer "$work/big-tokenizer.json" --input "$work/victim.txt" --output "$work/victim.txt"
cmp -s "$work/victim.txt" "$work/data/doc.txt" && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: tokenize overwrote its input"; }
expect eval-json-over-table 2 "is the file --method table: reads" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 128 --method table:"$work/t4.json" --json "$work/t4.json"
cp "$work/t4.json" "$work/t4-copy.json"
expect export-over-table 2 "--out $work/t4-copy.json is the file --table reads" -- "$longrope" export --table "$work/t4-copy.json" --format hf --config "$work/model/config.json" --out "$work/t4-copy.json"
cmp -s "$work/t4.json" "$work/t4-copy.json" && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: export overwrote its table"; }
mkfifo "$work/fifo"
expect eval-json-to-fifo 1 "fifo: is not a regular file" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --json "$work/fifo"
[[ -p $work/fifo ]] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: the FIFO was replaced"; }
echo '{"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":[]},"pre_tokenizer":{"type":"ByteLevel"},"decoder":{"type":"ByteLevel"}}' >"$work/small-tokenizer.json"
mkdir -p "$work/words" && for i in $(seq 200); do printf 'a jumping fox ' >>"$work/words/w.txt"; done
expect tokenizer-drops-bytes 1 "bytes have no token in the vocabulary (the first, byte 32, at offset 1)" -- "$longrope" eval --model "$work/model" --data "$work/words" --length 64 --tokenizer "$work/small-tokenizer.json"
expect tokenizer-directory 2 "--tokenizer: $work/data: a directory without a tokenizer.json" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --tokenizer "$work/data"
with_config() {  # with_config DIR JSON-MEMBERS: the tiny model with members added to config.json
  rm -rf "$1" && cp -r "$work/model" "$1" && sed -i "0,/{/s//{$2,/" "$1/config.json"
}
set_config "$work/gelu" hidden_act '"gelu"'
expect config-gelu 1 "field 'hidden_act': 'gelu' is not supported" -- "$longrope" eval --model "$work/gelu" --data "$work/data" --length 64
with_config "$work/untyped" '"rope_scaling": {"factor": 4.0}'
expect config-rope-untyped 1 "field 'rope_scaling.rope_type': missing, but 'factor' is given" -- "$longrope" eval --model "$work/untyped" --data "$work/data" --length 64
with_config "$work/twice" '"hidden_size": 64'
expect config-key-twice 1 "field 'hidden_size': given twice" -- "$longrope" eval --model "$work/twice" --data "$work/data" --length 64
with_config "$work/window" '"sliding_window": -5'
expect config-window-negative 1 "field 'sliding_window': must be positive" -- "$longrope" eval --model "$work/window" --data "$work/data" --length 64
set_config "$work/biased" attention_bias true
expect config-bias-without-tensors 1 "missing tensor 'model.layers.0.self_attn.q_proj.bias'" -- "$longrope" eval --model "$work/biased" --data "$work/data" --length 64
with_config "$work/factor0" '"rope_scaling": {"rope_type": "linear", "factor": 0}'
expect config-factor-zero 1 "field 'rope_scaling.factor': must be a finite number >= 1, got 0" -- "$longrope" eval --model "$work/factor0" --data "$work/data" --length 64
with_config "$work/rope-type" '"rope_scaling": {"rope_type": "llama4", "factor": 8.0}'
expect config-rope-type-unknown 1 "config.json: field 'rope_scaling.rope_type': 'llama4' is not supported (default, linear, dynamic, yarn, longrope, llama3)" -- "$longrope" eval --model "$work/rope-type" --data "$work/data" --length 64 --json "$work/rt.json"
with_config "$work/llama3" '"max_position_embeddings": 512, "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 64}'
sed -i 's/"max_position_embeddings": 64,//' "$work/llama3/config.json"
expect eval-llama3-config 0 "" -- "$longrope" eval --model "$work/llama3" --data "$work/data" --length 128 --method config,longrope --table "$work/t4.json"
# A search on a Llama 3 model extends its L (the rope dict's 64), with tables on its native frequencies.
expect search-llama3 0 "" -- "$longrope" search --model "$work/llama3" --data "$work/data" --target 2x --out "$work/run-llama3" "${small[@]}"
[[ -f $work/run-llama3/2x-128/table.json ]] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: the llama3 search wrote no 2x-128 table"; }
# Phi-3 (fused qkv_proj and gate_up_proj): a fused tensor of the wrong size is named with both shapes.
sed 's/"num_hidden_layers":1,/"num_hidden_layers":1,"model_type":"phi3","partial_rotary_factor":0.5,"original_max_position_embeddings":64,/' "$work/config.json" >"$work/phi3.json"
"$longrope" init-model --config "$work/phi3.json" --out "$work/phi3" >/dev/null || { failed=$((failed + 1)); echo "FAIL: init-model of a phi3 config"; }
expect eval-phi3 0 "" -- "$longrope" eval --model "$work/phi3" --data "$work/data" --length 64 --method none,yarn
rm -rf "$work/phi3-narrow" && cp -r "$work/phi3" "$work/phi3-narrow" && sed -i 's/"intermediate_size": 64/"intermediate_size": 48/' "$work/phi3-narrow/config.json"
expect phi3-fused-size 1 "tensor 'model.layers.0.mlp.gate_up_proj.weight': shape [128, 32] does not match the config, expected [96, 32] (rows: gate_proj 48, up_proj 48)" -- "$longrope" eval --model "$work/phi3-narrow" --data "$work/data" --length 64 --json "$work/pf.json"
# A shard index naming a shard that is not there.
"$longrope" convert --model "$work/model" --out "$work/sharded" --dtype f32 --shard-mb 1 >/dev/null
rm "$work/sharded/model-00001-of-00001.safetensors"
expect index-missing-shard 1 "sharded/model.safetensors.index.json: weight_map: tensor 'model.embed_tokens.weight': shard 'model-00001-of-00001.safetensors': $work/sharded/model-00001-of-00001.safetensors: cannot open" -- "$longrope" eval --model "$work/sharded" --data "$work/data" --length 64 --json "$work/ms.json"
absent "$work/rt.json" "$work/pf.json" "$work/ms.json"
with_config "$work/linear2" '"rope_scaling": {"rope_type": "linear", "factor": 2.0}'
expect convert-keeps-rope-scaling 0 "" -- "$longrope" convert --model "$work/linear2" --out "$work/linear2-f32" --dtype f32
"$longrope" eval --model "$work/linear2" --data "$work/data" --length 128 --method config --json "$work/l-a.json" >/dev/null 2>&1
"$longrope" eval --model "$work/linear2-f32" --data "$work/data" --length 128 --method config --json "$work/l-b.json" >/dev/null 2>&1
[[ -n $(grep '"ppl"' "$work/l-a.json" | tail -1) && $(grep '"ppl"' "$work/l-a.json" | tail -1) == "$(grep '"ppl"' "$work/l-b.json" | tail -1)" ]] &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: convert changed the model's RoPE scaling"; }
expect init-config-directory 1 "is a directory, not a config.json" -- "$longrope" init-model --config "$work/data" --out "$work/i1"
expect search-step-too-big 2 "--step: 100 leaves no grid point between 1 and the bound" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/b1" "${small[@]}" --step 100
expect search-race-nan 2 "--race-margin: 'nan' is not a number" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/b2" "${small[@]}" --race-margin nan
expect search-seed-negative 2 "--seed must be >= 0, got -1" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/b3" "${small[@]}" --seed -1
expect eval-threads-huge 2 "--threads: 100000 is more than 4 per core" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --threads 100000
expect eval-start-beyond-l 2 "--start-tokens: 1000000 is beyond the original length 64" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 128 --method table:"$work/t4.json" --start-tokens 1000000
# n̂ past L (the search's paper set reaches 256) is a table the tool itself writes: it must evaluate.
expect eval-start-past-l 0 "" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 128 --method table:"$work/t4.json" --start-tokens 100
expect eval-scale-huge 2 "--scale must be in [1, 10^6], got 1e+308" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --method pi --scale 1e308
expect eval-table-options-unused 2 "apply to a longrope table" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --method pi --attention-factor 2
expect eval-method-spaces 0 "" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --method 'pi, ntk'
expect sweep-theta-twice 2 "--thetas: 1000 is given twice" -- "$longrope" sweep-theta --model "$work/model" --data "$work/data" --length 64 --thetas 1000,1000 --out "$work/sw"
expect sweep-theta-hex 2 "--thetas: '0x10' is not a number" -- "$longrope" sweep-theta --model "$work/model" --data "$work/data" --length 64 --thetas 0x10 --out "$work/sw"
expect sweep-theta-huge 2 "--thetas: '1e300' is not a base in (1, 10^12]" -- "$longrope" sweep-theta --model "$work/model" --data "$work/data" --length 64 --thetas 1e300 --out "$work/sw"
expect sweep-theta-empty-item 2 "--thetas: '1000,' has an empty item" -- "$longrope" sweep-theta --model "$work/model" --data "$work/data" --length 64 --thetas 1000, --out "$work/sw"
echo '{"format": "something-else", "lambda": [1.0, 1.5, 2.0, 3.0]}' >"$work/other-format.json"
echo '{"lambda": [1.0, 1.5, 2.0, 3.0], "lambda": [9.0, 9.0, 9.0, 9.0]}' >"$work/lambda-twice.json"
expect table-other-format 1 "other-format.json: field 'format'" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 128 --method table:"$work/other-format.json"
expect table-key-twice 1 "lambda-twice.json: field 'lambda': given twice" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 128 --method table:"$work/lambda-twice.json"
echo '{"model_type": "bert", "hidden_size": 32, "num_attention_heads": 4, "max_position_embeddings": 64}' >"$work/bert.json"
expect export-hf-bert 1 "bert.json: model_type: 'bert' is not a RoPE decoder" -- "$longrope" export --table "$work/t4.json" --format hf --config "$work/bert.json" --out "$work/b.json"
absent "$work/i1" "$work/b1" "$work/b2" "$work/b3" "$work/sw.csv" "$work/b.json"
mkdir -p "$work/side.png.dat"
expect plot-sidecar-directory 1 "side.png.dat: is a directory" -- "$longrope" plot --tables "$work/t4.json" --out "$work/side.png"
absent "$work/side.png"
# Resume: a table edited by hand is rebuilt from the run; a journal without evaluations gives way.
cp -r "$work/run-g1" "$work/edited"
sed -i 's/"search_ppl": [0-9.e+-]*/"search_ppl": 1.0/' "$work/edited/2x-128/table.json"
expect resume-edited-table 0 "edited since the search wrote it" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/edited" "${base[@]}" --generations 2 --resume
[[ $(grep '"search_ppl"' "$work/edited/2x-128/table.json") == "$(grep '"search_ppl"' "$work/run-g1/2x-128/table.json")" ]] &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: an edited table survived the resume"; }
mkdir -p "$work/stalled/2x-128"
head -1 "$work/run-g1/2x-128/evaluations.jsonl" | sed 's/"seed":42/"seed":7/' >"$work/stalled/2x-128/evaluations.jsonl"
expect resume-empty-journal 0 "" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/stalled" "${base[@]}" --generations 1 --resume

# A killed eval continues from its journal (FILE.journal) with --resume and prints the same numbers;
# without --resume a journal that holds scores is refused and kept; one writer at a time. The journal
# of a whole run is kept through a hard link made before it starts (the run deletes its own name).
ev=(--model "$work/model" --data "$work/data" --length 128 --windows 3 --method none,pi)
expect eval-resume-no-json 2 "--resume needs --json" -- "$longrope" eval "${ev[@]}" --resume
: >"$work/full.json.journal" && ln "$work/full.json.journal" "$work/kept.journal"
expect eval-journaled 0 "" -- "$longrope" eval "${ev[@]}" --json "$work/full.json"
[[ ! -e $work/full.json.journal && $(wc -l <"$work/kept.journal") -eq 7 ]] && passed=$((passed + 1)) ||
  { failed=$((failed + 1)); echo "FAIL: the journal of a finished eval was not 7 lines, or was left behind"; }
head -5 "$work/kept.journal" >"$work/part.json.journal"
expect eval-journal-without-resume 1 "part.json.journal: holds 4 scored windows of an unfinished job: continue it with --resume" -- "$longrope" eval "${ev[@]}" --json "$work/part.json"
absent "$work/part.json"
expect eval-journal-busy 1 "another longrope process is writing this score journal" -- flock "$work/part.json.journal" "$longrope" eval "${ev[@]}" --json "$work/part.json" --resume
ln "$work/part.json.journal" "$work/part-kept.journal"
expect eval-resumed 0 "resuming from $work/part.json.journal: 4 of 6 windows already scored" -- "$longrope" eval "${ev[@]}" --json "$work/part.json" --resume
# Only the 2 windows not in it were scored (header, 4 kept lines, 2 new), and the numbers are the same.
[[ ! -e $work/part.json.journal && $(wc -l <"$work/part-kept.journal") -eq 7 &&
   $(grep '"ppl"' "$work/part.json") == "$(grep '"ppl"' "$work/full.json")" ]] && passed=$((passed + 1)) ||
  { failed=$((failed + 1)); echo "FAIL: the resumed eval scored journaled windows again, its perplexities differ, or its journal was left"; }

# longrope compare pairs an eval with a curve at one of its lengths (the same windows, the same names),
# and reads every length of a curve's method together.
expect curve-for-compare 0 "" -- "$longrope" curve --model "$work/model" --data "$work/data" --lengths 64,128 --windows 3 --method none,pi --out "$work/cmp"
expect compare-eval-curve 0 "A vs B: +0.00 % [+0.00, +0.00]" -- "$longrope" compare "$work/full.json:pi" "$work/cmp.json:pi@128" --group-by window
expect compare-curve-lengths 0 "6 windows" -- "$longrope" compare "$work/cmp.json:pi@*" "$work/cmp.json:none@*" --group-by window

# Passkey retrieval: runs with a KV cache on the tiny model; bad options get one line.
expect passkey-ok 0 "wrote $work/pk.csv" -- "$longrope" passkey --model "$work/model" --lengths 300,400 --samples 2 --method none,yarn --out "$work/pk"
grep -q '"accuracy"' "$work/pk.json" && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: pk.json has no accuracy"; }
expect passkey-too-short 2 "--lengths: 64 tokens cannot hold the passkey prompt itself" -- "$longrope" passkey --model "$work/model" --lengths 64 --out "$work/pk2"
expect passkey-no-samples 2 "--samples: must be in [1, 10^6], got 0" -- "$longrope" passkey --model "$work/model" --lengths 400 --samples 0 --out "$work/pk3"
absent "$work/pk2.csv" "$work/pk3.csv"
# Runtimes' rules, deployments and composition: bad combinations get one line and write nothing.
ev2=(--model "$work/model" --data "$work/data" --length 128 --docs 1)
expect runtime-unknown 2 "--runtime: 'tgi' is not transformers, vllm or llama.cpp" -- "$longrope" eval "${ev2[@]}" --method yarn --scale 2 --runtime tgi
expect runtime-options-alone 2 "they need --runtime" -- "$longrope" eval "${ev2[@]}" --method yarn --max-model-len 256
expect runtime-max-model-len-not-vllm 2 "--max-model-len is vLLM's" -- "$longrope" eval "${ev2[@]}" --method yarn --scale 2 --runtime llama.cpp --max-model-len 256
expect runtime-fixed-scale 2 "--scale: --runtime runs yarn at one fixed factor" -- "$longrope" eval "${ev2[@]}" --method yarn --runtime transformers
expect runtime-vllm-no-length 2 "--runtime vllm needs --max-model-len" -- "$longrope" eval "${ev2[@]}" --method yarn --scale 2 --runtime vllm
expect runtime-ok 0 "yarn" -- "$longrope" eval "${ev2[@]}" --method none,yarn --scale 2 --runtime transformers
expect decode-from-not-transformers 2 "--decode-from needs --runtime transformers" -- "$longrope" forward --model "$work/model" --tokens "$work/data/doc.txt" --max-tokens 100000 --out "$work/fw.npy" --runtime llama.cpp --decode-from 10
expect compose-with-runtime 2 "--compose-with: composes our forward's scalings: not with --runtime" -- "$longrope" eval "${ev2[@]}" --method yarn --scale 2 --runtime transformers --compose-with "$work/short-table.json"
expect deploy-start-tokens 2 "--search-start-tokens true: no runtime has n̂" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/sd1" --deploy transformers --search-start-tokens true "${small[@]}"
expect deploy-serve-below-l 2 "--serve-lengths: 64 is not beyond L = 64" -- "$longrope" search --model "$work/model" --data "$work/data" --target 4x --out "$work/sd2" --deploy llama.cpp --serve-lengths 64,256 "${small[@]}"
expect deploy-vllm-short 2 "vLLM applies one factor set to every request" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/sd3" --deploy vllm --short "${small[@]}"
expect single-table-without-deploy 2 "they need --deploy" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/sd4" --single-table "${small[@]}"
expect from-config-plain 2 "carries no rope scaling to start from" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/sd5" --from config "${small[@]}"
expect from-bogus 2 "--from: 'table' is not config" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/sd6" --from table "${small[@]}"
expect train-method-without-init 2 "--method needs --init" -- "$longrope" train --data "$work/data" --out "$work/t-m" --method yarn --scale 2 --steps 1
absent "$work/sd1" "$work/sd2" "$work/sd3" "$work/sd4" "$work/sd5" "$work/sd6" "$work/t-m" "$work/fw.npy"

# Issue 37: no output replaces an input, a resume refuses another run, every size read is bounded, and
# a full disk or a file-size limit is one line with nothing left behind.
unchanged() {  # unchanged NAME FILE COPY: FILE still equals COPY
  cmp -s "$2" "$3" && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: $1: $2 was changed"; }
}
cp -r "$work/model" "$work/m37" && cp "$work/m37/config.json" "$work/m37.config" && cp "$work/m37/model.safetensors" "$work/m37.weights"
expect out-eval-config 2 "--json $work/m37/config.json lies inside $work/m37, the directory --model reads" -- "$longrope" eval --model "$work/m37" --data "$work/data" --length 64 --json "$work/m37/config.json"
expect out-eval-document 2 "--json $work/data/doc.txt is the file --data reads" -- "$longrope" eval --model "$work/model" --data "$work/data/doc.txt" --length 64 --json "$work/data/doc.txt"
expect out-eval-in-data 2 "--json $work/data/x.json lies inside $work/data, the directory --data reads" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --json "$work/data/x.json"
cp "$work/small-tokenizer.json" "$work/tok37.json"
expect out-eval-tokenizer 2 "--json $work/tok37.json is the file --tokenizer reads" -- "$longrope" eval --model "$work/model" --data "$work/words" --length 64 --tokenizer "$work/tok37.json" --json "$work/tok37.json"
unchanged out-eval-tokenizer "$work/tok37.json" "$work/small-tokenizer.json"
expect out-forward-weights 2 "--out $work/m37/model.safetensors lies inside $work/m37" -- "$longrope" forward --model "$work/m37" --tokens "$work/data/doc.txt" --out "$work/m37/model.safetensors"
cp "$work/t4.json" "$work/T.json"
expect out-passkey-table 2 "--out $work/T.json is the file --method table: reads" -- "$longrope" passkey --model "$work/model" --lengths 300 --samples 1 --method "table:$work/T.json" --out "$work/T"
expect out-passkey-prefix 2 "--out $work/pk37.json is a prefix: it would write $work/pk37.json.csv" -- "$longrope" passkey --model "$work/model" --lengths 300 --samples 1 --out "$work/pk37.json"
unchanged out-passkey-table "$work/T.json" "$work/t4.json"
expect out-curve-config 2 "--out $work/m37/config.csv lies inside $work/m37" -- "$longrope" curve --model "$work/m37" --data "$work/data" --lengths 64 --out "$work/m37/config"
expect out-sweep-model 2 "--out $work/m37/sweep.csv lies inside $work/m37" -- "$longrope" sweep-theta --model "$work/m37" --data "$work/data" --length 64 --thetas 1000 --out "$work/m37/sweep"
cp "$work/data/doc.txt" "$work/D.txt"
expect out-train-json-data 2 "--json $work/D.txt is the file --data reads" -- "$longrope" train --data "$work/D.txt" --out "$work/t37" --json "$work/D.txt" --context 32 --steps 2 --warmup 1
unchanged out-train-json-data "$work/D.txt" "$work/data/doc.txt"
expect out-train-devnull 1 "/dev/null: is not a regular file (a character device) (--json writes a file)" -- "$longrope" train --data "$work/data" --out "$work/t37b" --json /dev/null --context 32 --steps 2 --warmup 1
expect out-train-in-data 2 "--out $work/data/m lies inside $work/data, the directory --data reads" -- "$longrope" train --data "$work/data" --out "$work/data/m" --context 32 --steps 2 --warmup 1
expect out-convert-in-model 2 "--out $work/m37/f16 lies inside $work/m37" -- "$longrope" convert --model "$work/m37" --out "$work/m37/f16"
mkdir -p "$work/cfg37" && cp "$work/config.json" "$work/cfg37/config.json"
expect out-init-holds-config 2 "--out $work/cfg37 holds $work/cfg37/config.json, which --config reads" -- "$longrope" init-model --config "$work/cfg37/config.json" --out "$work/cfg37"
expect out-search-in-model 2 "--out $work/m37/run lies inside $work/m37" -- "$longrope" search --model "$work/m37" --data "$work/data" --target 2x --out "$work/m37/run" "${small[@]}"
cp "$work/t4.json" "$work/pl.svg.dat"
expect out-plot-sidecar 2 "--out $work/pl.svg.dat is the file --tables reads" -- "$longrope" plot --tables "$work/pl.svg.dat" --out "$work/pl.svg"
cp "$work/full.json" "$work/full37.json"
expect out-compare-json 2 "--json $work/full37.json is the file A or B reads" -- "$longrope" compare "$work/full37.json:none" "$work/full37.json:pi" --json "$work/full37.json"
unchanged out-compare-json "$work/full37.json" "$work/full.json"
expect out-tokenize-tokenizer 2 "--output $work/tok37.json is the file --tokenizer reads" -- "$longrope" tokenize --tokenizer "$work/tok37.json" --input "$work/words/w.txt" --output "$work/tok37.json"
expect out-export-config 2 "--out $work/m37/config.json is the file --config reads" -- "$longrope" export --table "$work/t4.json" --format hf --config "$work/m37/config.json" --out "$work/m37/config.json"
unchanged out-model "$work/m37/config.json" "$work/m37.config"
unchanged out-model "$work/m37/model.safetensors" "$work/m37.weights"
[[ $(ls "$work/m37") == "$(ls "$work/model")" ]] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: a refused job wrote into the model directory"; }
absent "$work/t37" "$work/t37b" "$work/data/m" "$work/data/x.json" "$work/T.csv" "$work/pk37.json.csv" "$work/pl.svg" "$work/cfg37/model.safetensors"
# Options another format would ignore.
expect export-gguf-mode-hf 2 "--gguf-mode applies to --format gguf, not hf" -- "$longrope" export --table "$work/t4.json" --format hf --config "$work/m37/config.json" --out "$work/e37.json" --gguf-mode freqs
expect export-config-csv 2 "--config applies to --format hf, not csv" -- "$longrope" export --table "$work/t4.json" --format csv --config "$work/m37/config.json" --out "$work/e37.csv"
absent "$work/e37.json" "$work/e37.csv"
# A rope_scaling the model carries: export names what it replaces, search says it ignores it.
expect export-replaces-scaling 0 "its rope_scaling (rope_type linear, factor 2) is replaced by the table's longrope scaling" -- "$longrope" export --table "$work/t4.json" --format hf --config "$work/linear2/config.json" --out "$work/lin37.json"
expect search-warns-scaling 0 "the model carries a linear rope_scaling (factor 2); the search scores it as the baseline 'config'" -- "$longrope" search --model "$work/linear2" --data "$work/data" --target 2x --out "$work/run-lin37" "${small[@]}"

# A resume is compared whole (RUN/run.json): another model, target list or setting is refused, and
# nothing is written; a run directory made before the record still resumes.
sed 's/"max_position_embeddings":64/"max_position_embeddings":32/' "$work/config.json" >"$work/config-l32.json"
"$longrope" init-model --config "$work/config-l32.json" --out "$work/model-l32" >/dev/null
cp "$work/run/summary.json" "$work/summary37.json"
expect resume-other-model 1 "run.json: the run was made with other settings: model (was $work/model, files digest" -- "$longrope" search --model "$work/model-l32" --data "$work/data" --target 2x --out "$work/run" "${small[@]}" --resume
absent "$work/run/2x-64"
unchanged resume-other-model "$work/run/summary.json" "$work/summary37.json"
expect resume-other-target 1 'targets (was ["2x-128"], now ["2x-128","4x-256"])' -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x,4x --out "$work/run" "${small[@]}" --resume
absent "$work/run/4x-256"
expect resume-other-seed 1 "run.json: the run was made with other settings: seed (was 42, now 7)" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/run" "${small[@]}" --seed 7 --resume
cp -r "$work/model" "$work/model-w"
expect search-model-w 0 "" -- "$longrope" search --model "$work/model-w" --data "$work/data" --target 2x --out "$work/run-w" "${small[@]}"
"$longrope" init-model --config "$work/config.json" --out "$work/model-w2" --seed 5 >/dev/null && cp "$work/model-w2/model.safetensors" "$work/model-w/"
expect resume-other-weights 1 "model (was $work/model-w, files digest" -- "$longrope" search --model "$work/model-w" --data "$work/data" --target 2x --out "$work/run-w" "${small[@]}" --resume
cp -r "$work/run" "$work/legacy" && rm "$work/legacy/run.json"
expect resume-legacy-target 1 'targets (was ["2x-128"], now ["2x-128","4x-256"])' -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x,4x --out "$work/legacy" "${small[@]}" --resume
expect resume-legacy-model 1 "state.json: the run was made with other settings: model (was" -- "$longrope" search --model "$work/model-w" --data "$work/data" --target 2x --out "$work/legacy" "${small[@]}" --resume
absent "$work/legacy/run.json"
expect resume-legacy 0 "" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/legacy" "${small[@]}" --resume
[[ -f $work/legacy/run.json ]] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: a resumed older run gained no run.json"; }
expect search-validation-is-data 2 "--validation $work/data is the search data (--data)" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/v37" "${small[@]}" --validation "$work/data"
cp -r "$work/data" "$work/val37"
expect search-heldout-is-validation 0 "warning: the held-out documents are the validation documents" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/v38" "${small[@]}" --validation "$work/val37" --heldout "$work/val37"
if command -v flock >/dev/null; then
  expect search-busy 1 "another longrope (pid" -- flock "$work/run" "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/run" "${small[@]}"
fi
expect devices-blamed 2 "--devices: 'gpu7' is not a device" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/v37" "${small[@]}" --devices cpu,gpu7
absent "$work/v37"

# Sizes from files and options are capped, and special files are refused before they are read.
echo '{"model":{"type":"BPE","vocab":{"a":0,"b":100000000},"merges":[]},"pre_tokenizer":{"type":"ByteLevel"},"decoder":{"type":"ByteLevel"}}' >"$work/far8.json"
sed 's/100000000/1000000000/' "$work/far8.json" >"$work/far9.json"
expect tokenizer-far-id 1 "far8.json: model.vocab: id 100000000 is beyond what a vocabulary of 2 tokens numbers" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --tokenizer "$work/far8.json"
expect tokenizer-farther-id 1 "far9.json: model.vocab: id 1000000000 is beyond" -- "$longrope" tokenize --tokenizer "$work/far9.json" --input "$work/words/w.txt" --output "$work/far.u32"
expect passkey-beyond-memory 2 "--lengths: 1099511627786 tokens need about" -- "$longrope" passkey --model "$work/model" --lengths 1099511627776 --out "$work/pk-huge"
expect passkey-new-tokens-huge 2 "--new-tokens: must be in [1, 4096], got 1000000000" -- "$longrope" passkey --model "$work/model" --lengths 400 --new-tokens 1000000000 --out "$work/pk-huge"
expect search-population-huge 2 "--population: must be at most 10^6, got 2000000000" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/v37" --population 2000000000 --parents 2 --docs 1
expect curve-beyond-memory 2 "--lengths: 1099511627776 tokens need about" -- "$longrope" curve --model "$work/model" --data "$work/data" --lengths 64,1099511627776 --out "$work/c-huge"
sed 's/"hidden_size":32/"hidden_size":8192/; s/"vocab_size":256/"vocab_size":16777216/' "$work/config.json" >"$work/config-huge.json"
expect init-beyond-memory 1 "config-huge.json: its weights take" -- "$longrope" init-model --config "$work/config-huge.json" --out "$work/m-huge"
expect train-beyond-memory 1 "--vocab-size, --hidden, --layers and --intermediate: the model's float32 weights, gradients and AdamW moments take" -- "$longrope" train --data "$work/data" --out "$work/t-huge" --vocab-size 16777216 --hidden 8192 --heads 64 --kv-heads 8
expect train-batch-beyond-memory 2 "--batch: 1000000000000 windows of 32 tokens need about" -- "$longrope" train --data "$work/data" --out "$work/t-huge" --context 32 --batch 1000000000000
expect train-eval-batches-beyond-memory 2 "--eval-batches: 16000000000 evaluation windows of 33 tokens per split take about" -- "$longrope" train --data "$work/data" --out "$work/t-huge" --context 32 --batch 16 --eval-batches 1000000000
expect eval-attention-factor-huge 2 "--attention-factor must be a positive number of at most 10, got 1e+300" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 128 --method "table:$work/t4.json" --attention-factor 1e300
expect convert-shard-huge 2 "--shard-mb must be in [0, 2^20] (0: one file), got 1000000000000000" -- "$longrope" convert --model "$work/model" --out "$work/m-huge" --shard-mb 1000000000000000
expect eval-original-length-huge 2 "--original-length: must be in [1, 2^32] (0: the config's), got 4611686018427387904" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --original-length 4611686018427387904
absent "$work/m-huge" "$work/t-huge"
set_config "$work/eps37" rms_norm_eps 1e10
expect config-eps-huge 1 "field 'rms_norm_eps': must be a small positive number (at most 0.1)" -- "$longrope" eval --model "$work/eps37" --data "$work/data" --length 64
cp -r "$work/model" "$work/fifo-config" && rm "$work/fifo-config/config.json" && mkfifo "$work/fifo-config/config.json"
cp -r "$work/model" "$work/fifo-weights" && rm "$work/fifo-weights/model.safetensors" && mkfifo "$work/fifo-weights/model.safetensors"
mkfifo "$work/fifo-table.json" "$work/fifo-tokenizer.json" "$work/fifo-doc.txt"
expect fifo-config 1 "config.json: is not a regular file (a FIFO)" -- timeout 20 "$longrope" eval --model "$work/fifo-config" --data "$work/data" --length 64
expect fifo-weights 1 "model.safetensors: is not a regular file (a FIFO)" -- timeout 20 "$longrope" eval --model "$work/fifo-weights" --data "$work/data" --length 64
expect fifo-table 1 "fifo-table.json: is not a regular file (a FIFO)" -- timeout 20 "$longrope" eval --model "$work/model" --data "$work/data" --length 128 --method "table:$work/fifo-table.json"
expect fifo-tokenizer 1 "fifo-tokenizer.json: is not a regular file (a FIFO)" -- timeout 20 "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --tokenizer "$work/fifo-tokenizer.json"
expect fifo-document 1 "fifo-doc.txt: is not a regular file (a FIFO)" -- timeout 20 "$longrope" eval --model "$work/model" --data "$work/fifo-doc.txt" --length 64
expect data-is-weights 1 "model.safetensors: not a text file (" -- "$longrope" eval --model "$work/model" --data "$work/model/model.safetensors" --length 64
expect train-data-is-weights 1 "model.safetensors: not a text file (" -- "$longrope" train --data "$work/model/model.safetensors" --out "$work/t37c" --context 32 --steps 2 --warmup 1
# Tables that read without complaint and meant nothing.
table_with scale-huge '[1.0, 1.5, 2.0, 3.0]' '' && sed -i 's/"scale": 2/"scale": 1e308/' "$work/scale-huge.json"
table_with scale-other '[1.0, 1.5, 2.0, 3.0]' '' && sed -i 's/"scale": 2/"scale": 3/' "$work/scale-other.json"
table_with lambda-huge '[1e5, 1e5, 1e5, 1e5]' ''
expect table-scale-huge 1 "scale-huge.json: field 'scale': 1e+308 is not an extension ratio in [1, 10^6]" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 128 --method "table:$work/scale-huge.json"
expect table-scale-other 1 "scale-other.json: field 'scale': 3 disagrees with target_length / original_length = 128 / 64 = 2" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 128 --method "table:$work/scale-other.json"
expect table-lambda-huge 1 "lambda-huge.json: field 'lambda[0]': 100000 is beyond 4 × the table's scale s = 2" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 128 --method "table:$work/lambda-huge.json"
# Training settings blamed on themselves.
expect train-grad-clip-huge 2 "--grad-clip: 1e+308 is not a finite number within float's range" -- "$longrope" train --data "$work/data" --out "$work/t37d" --context 32 --steps 2 --warmup 1 --grad-clip 1e308
expect train-weight-decay-inf 2 "--weight-decay: inf is not a finite number within float's range" -- "$longrope" train --data "$work/data" --out "$work/t37e" --context 32 --steps 2 --warmup 1 --weight-decay inf
absent "$work/pk-huge.csv" "$work/c-huge.csv" "$work/t37c" "$work/t37d" "$work/t37e"

# Issue 37, second sweep: links, outputs that collide, paths that name no file, stray words.
ln -s /proc/self/fd/1 "$work/so37"
expect out-symlink 1 "--json $work/so37 is a symbolic link: name the file it points to" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --json "$work/so37"
[[ -L $work/so37 ]] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: the symbolic link was replaced"; }
cp "$work/t4.json" "$work/compose37.json"
expect out-forward-compose 2 "--out $work/compose37.json is the file --compose-with reads" -- "$longrope" forward --model "$work/model" --tokens "$work/data/doc.txt" --max-tokens 100000 --method pi --compose-with "$work/compose37.json" --out "$work/compose37.json"
unchanged out-forward-compose "$work/compose37.json" "$work/t4.json"
expect out-train-json-inside 2 "lies inside $work/tr37, the directory --out writes" -- "$longrope" train --data "$work/data" --out "$work/tr37" --json "$work/tr37/model.safetensors" --context 32 --steps 2 --warmup 1
expect out-train-json-is-out 2 "--out $work/tr37 and --json $work/tr37 are the same file" -- "$longrope" train --data "$work/data" --out "$work/tr37" --json "$work/tr37" --context 32 --steps 2 --warmup 1
expect out-plot-twice 2 "are the same file" -- "$longrope" plot --tables "$work/t4.json" --out "$work/tw37.svg,$work/tw37.svg"
ln "$work/model/config.json" "$work/cfg-link37.json"
expect out-hard-link-into-model 2 "is $work/model/config.json (a hard link to it), inside the directory --model reads" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --json "$work/cfg-link37.json"
unchanged out-hard-link-into-model "$work/model/config.json" "$work/config-orig.json"
ln "$work/data/doc.txt" "$work/doc-link37.txt"
expect out-hard-link-into-data 2 "(a hard link to it), inside the directory --data reads" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --json "$work/doc-link37.txt"
expect out-empty-curve 2 "--out: an empty value names nothing" -- "$longrope" curve --model "$work/model" --data "$work/data" --lengths 64 --out ''
expect out-empty-json 2 "--json: an empty value names nothing" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --json ''
expect out-empty-convert 2 "--out: an empty value names nothing" -- "$longrope" convert --model "$work/model" --out ''
mkdir -p "$work/sub37"
expect out-prefix-slash 2 "it must end in a file name, not '/'" -- "$longrope" passkey --model "$work/model" --lengths 300 --out "$work/sub37/"
expect out-file-slash 2 "names a directory, not a file" -- "$longrope" forward --model "$work/model" --tokens "$work/data/doc.txt" --max-tokens 100000 --out "$work/sub37/"
[[ -z $(ls -A "$work/sub37") ]] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: a path ending in / wrote $(ls -A "$work/sub37")"; }
mkdir -p "$work/tk37" && cp "$work/small-tokenizer.json" "$work/tk37/tokenizer.json" && echo '{"add_bos_token": false}' >"$work/tk37/tokenizer_config.json"
cp "$work/tk37/tokenizer_config.json" "$work/tk37-config.json"
expect out-tokenizer-config 2 "--output $work/tk37/tokenizer_config.json is the file --tokenizer reads" -- "$longrope" tokenize --tokenizer "$work/tk37/tokenizer.json" --input "$work/words/w.txt" --output "$work/tk37/tokenizer_config.json"
unchanged out-tokenizer-config "$work/tk37/tokenizer_config.json" "$work/tk37-config.json"
expect stray-argument 2 "unexpected argument 'pi'" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --method none pi
expect plot-progress-fifo 1 "fifo: is not a regular file (a FIFO)" -- timeout 20 "$longrope" plot --progress "$work/fifo" --out "$work/pp37.svg"
expect plot-progress-device 1 "/dev/zero: is not a regular file (a character device)" -- timeout 20 "$longrope" plot --progress /dev/zero --out "$work/pp37.svg"
echo '{"generation": 1}' >"$work/gen37.jsonl"
expect plot-progress-field 1 "gen37.jsonl: line 1: field 'best_ppl': missing or not a number" -- "$longrope" plot --progress "$work/gen37.jsonl" --out "$work/pp37.svg"
absent "$work/tr37" "$work/tw37.svg" "$work/.csv" "$work/sub37/.csv" "$work/pp37.svg"

# Library text is not shown: nlohmann's tags, std::filesystem's "filesystem error:".
expect json-no-tag 1 "$work/broken/config.json: not valid JSON: parse error at line" -- "$longrope" eval --model "$work/broken" --data "$work/data" --length 64
expect plot-curve-is-eval 1 "full.json: key 'length' not found" -- "$longrope" plot --curve "$work/full.json" --out "$work/pc37.svg"
mkdir -p "$work/loops" && cp "$work/data/doc.txt" "$work/loops/" && ln -s loop-b "$work/loops/loop-a" && ln -s loop-a "$work/loops/loop-b"
expect data-symlink-loop 1 ": Too many levels of symbolic links" -- "$longrope" eval --model "$work/model" --data "$work/loops" --length 64
# Each value blamed on its own option; lists without holes or repeats.
expect eval-batch-blamed 2 "--batch: 64 tokens × 99999999999 windows need about" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --batch 99999999999
expect train-intermediate-blamed 2 "--intermediate: 99999999999 is beyond any model this tool runs" -- "$longrope" train --data "$work/data" --out "$work/t37f" --intermediate 99999999999
expect train-context-blamed 2 "--context: 99999999999 is beyond any model this tool runs" -- "$longrope" train --data "$work/data" --out "$work/t37f" --context 99999999999
echo '{"results":[{"method":"none","documents":[{"name":1,"mean_nll":2}]}]}' >"$work/name37.json"
expect compare-name-not-text 1 "name37.json: field 'documents.name': expected text, got 1" -- "$longrope" compare "$work/name37.json:none" "$work/name37.json:none"
expect compare-length-missing 1 "full.json: no result for 'none@99' (it holds none@128, pi@128)" -- "$longrope" compare "$work/full.json:none@99" "$work/full.json:pi"
expect model-is-device 1 "/dev/zero: not a model directory or file" -- "$longrope" eval --model /dev/zero --data "$work/data" --length 64
expect passkey-same-length 2 "--lengths: 300 is given twice" -- "$longrope" passkey --model "$work/model" --lengths 300,300 --out "$work/pk37"
expect lengths-empty-item 2 "--lengths: '64,,128' has an empty item" -- "$longrope" curve --model "$work/model" --data "$work/data" --lengths 64,,128 --out "$work/pk37"
absent "$work/pc37.svg" "$work/t37f" "$work/pk37.csv"
# A file-size limit (ulimit -f): "File too large", naming the file, and no temp file, journal or half
# model left (SIGXFSZ would have killed the process mid-write).
no_temps() { local left; left=$(find "$work" -name '*.tmp.*' -o -name '*.tmp[0-9]*' | head -3); [[ -z $left ]] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: temp files left: $left"; }; }
limited() {  # limited BLOCKS CMD...: CMD under ulimit -f BLOCKS, its stdout and stderr through pipes (a pipe has no size limit)
  local blocks=$1
  shift
  { (ulimit -f "$blocks"; exec "$@") 2>&1 1>&3 3>&- | cat >&2; exit "${PIPESTATUS[0]}"; } 3>&1 | cat
  return "${PIPESTATUS[0]}"
}
expect fsize-convert 1 "$work/cv-f/model.safetensors: cannot write: File too large" -- limited 8 "$longrope" convert --model "$work/model" --out "$work/cv-f" --dtype f32
expect fsize-init 1 "$work/in-f/model.safetensors: cannot write: File too large" -- limited 8 "$longrope" init-model --config "$work/config.json" --out "$work/in-f"
expect fsize-search-start 1 "$work/s-f0/run.json: cannot write: File too large" -- limited 0 "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/s-f0" "${small[@]}"
# Mid-run (the journal outgrows 1 KiB after the baselines): the progress before it, then the one line.
limited 1 "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/s-f1" "${small[@]}" >/dev/null 2>"$work/err"
[[ $? -eq 1 && $(tail -1 "$work/err") == *"s-f1/2x-128/evaluations.jsonl: cannot write: File too large" ]] && passed=$((passed + 1)) ||
  { failed=$((failed + 1)); echo "FAIL: fsize-search-midway:"; tail -2 "$work/err" | sed 's/^/    /'; }
expect fsize-eval-journal 1 "$work/e-f.json.journal: cannot write: File too large" -- limited 0 "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --json "$work/e-f.json"
expect fsize-curve-journal 1 "$work/c-f.journal: cannot write: File too large" -- limited 0 "$longrope" curve --model "$work/model" --data "$work/data" --lengths 64 --out "$work/c-f"
if command -v gnuplot >/dev/null; then
  expect fsize-plot 1 "cannot write: File too large" -- limited 0 "$longrope" plot --tables "$work/t4.json" --out "$work/p-f.svg"
  # Its data and script fit in 1 KiB, the image does not: gnuplot must not leave a cut image behind exit 0.
  expect fsize-plot-image 1 "$work/p-g.svg: cannot write: File too large" -- limited 1 "$longrope" plot --tables "$work/t4.json" --out "$work/p-g.svg"
fi
absent "$work/cv-f" "$work/in-f" "$work/e-f.json" "$work/e-f.json.journal" "$work/c-f.journal" "$work/c-f.csv" "$work/p-f.svg" "$work/p-f.svg.dat" "$work/p-g.svg" "$work/p-g.svg.dat"
no_temps
# With stdout and stderr themselves files under the limit, the error line cannot be written either:
# exit 1 still, not SIGABRT from a throwing handler.
(ulimit -f 0; exec "$longrope" sweep-theta --model "$work/model" --data "$work/data" --length 64 --thetas 1000,2000 --out "$work/sw-f" >"$work/sw-f.stdout" 2>"$work/sw-f.stderr")
[[ $? -eq 1 ]] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: fsize-stderr-file: not exit 1"; }
absent "$work/sw-f.csv" "$work/sw-f.json"
# A resume compares every setting that defines the run: where the winner is chosen, the deployment,
# and the options that choose the documents are named.
expect resume-other-validation 1 'validation (was "auto", now "none")' -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/run" "${small[@]}" --resume --validation none
expect resume-other-validate-top 1 "validate_top (was 4, now 3)" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/run" "${small[@]}" --resume --validate-top 3
expect resume-added-deploy 1 'deploy (was null, now "transformers")' -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/run" "${small[@]}" --resume --deploy transformers --single-table
expect resume-other-skip-tokens 1 "the windows that --data, --docs, --min-tokens, --sample-seed, --skip-tokens" -- "$longrope" search --model "$work/model" --data "$work/data" --target 2x --out "$work/run" "${small[@]}" --resume --skip-tokens 5
unchanged resume-other-settings "$work/run/summary.json" "$work/summary37.json"
# train --resume: the settings and documents of the checkpoint, named by option; a damaged optimizer
# state is named; a checkpoint under a file-size limit is one line and leaves no train_state.tmp.
tr38=(--hidden 32 --heads 4 --kv-heads 2 --layers 1 --context 32 --checkpoint-every 2)
expect train-for-resume 0 "" -- "$longrope" train --data "$work/data" --out "$work/tr38" "${tr38[@]}" --warmup 1 --steps 2
expect train-resume-other-lr 2 "--lr: the checkpoint $work/tr38/train_state was trained with 0.001, this run asks for 0.01" -- "$longrope" train --data "$work/data" --out "$work/tr38" "${tr38[@]}" --warmup 1 --steps 2 --resume --lr 0.01
expect train-resume-other-batch 2 "--batch: the checkpoint $work/tr38/train_state was trained with 16, this run asks for 8" -- "$longrope" train --data "$work/data" --out "$work/tr38" "${tr38[@]}" --warmup 1 --steps 2 --resume --batch 8
expect train-resume-other-data 2 "--data: the checkpoint $work/tr38/train_state was trained on other documents" -- "$longrope" train --data "$work/held" --out "$work/tr38" "${tr38[@]}" --warmup 1 --steps 2 --resume
expect train-resume-fewer-steps 2 "--steps: 1 is fewer than the 2 steps $work/tr38/train_state already holds" -- "$longrope" train --data "$work/data" --out "$work/tr38" "${tr38[@]}" --warmup 0 --steps 1 --resume
cp -r "$work/tr38" "$work/tr38-cut" && truncate -s 100 "$work/tr38-cut/train_state/optimizer.pt"
expect train-resume-cut-optimizer 1 "tr38-cut/train_state/optimizer.pt: cannot read the optimizer state (truncated or not a torch archive)" -- "$longrope" train --data "$work/data" --out "$work/tr38-cut" "${tr38[@]}" --warmup 1 --steps 4 --resume
expect fsize-train-checkpoint 1 "cannot write: File too large" -- limited 150 "$longrope" train --data "$work/data" --out "$work/tr38-f" "${tr38[@]}" --warmup 1 --steps 2
absent "$work/tr38-f/train_state.tmp"
# A tokenizer that is not one: named, without the library's own words.
head -c 3000 /dev/urandom >"$work/garbage.gguf"
expect tokenizer-gguf-no-magic 1 "garbage.gguf: not a GGUF file (no magic)" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --tokenizer "$work/garbage.gguf"
if [[ -x $(dirname "$longrope")/longrope-tokenize ]]; then
  cp "$work/garbage.gguf" "$work/garbage.model"
  "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --tokenizer "$work/garbage.model" >/dev/null 2>"$work/err"
  [[ $(tail -1 "$work/err") == *"garbage.model: not a SentencePiece model" ]] && passed=$((passed + 1)) ||
    { failed=$((failed + 1)); echo "FAIL: tokenizer-garbage-sentencepiece:"; sed 's/^/    /' "$work/err"; }
fi

# A full disk and a read-only run directory, where this user may mount a tmpfs (root); the unit tests
# inject ENOSPC everywhere else (tests/formats/file_write_test.cpp).
mkdir -p "$work/full" "$work/ro"
if mount -t tmpfs -o size=64k tmpfs "$work/full" 2>/dev/null; then
  head -c 100000 /dev/zero >"$work/full/filler" 2>/dev/null  # every page taken
  expect enospc-convert 1 "$work/full/cv/model.safetensors: cannot write: No space left on device" -- "$longrope" convert --model "$work/model" --out "$work/full/cv" --dtype f32
  expect enospc-eval-journal 1 "$work/full/e.json.journal: cannot write: No space left on device" -- "$longrope" eval --model "$work/model" --data "$work/data" --length 64 --json "$work/full/e.json"
  [[ $(ls "$work/full") == filler ]] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: a full disk kept $(ls "$work/full" | tr '\n' ' ')"; }
  umount "$work/full"
fi
if mount -t tmpfs -o ro tmpfs "$work/ro" 2>/dev/null || { [[ $(id -u) -ne 0 ]] && chmod 555 "$work/ro"; }; then
  why=$([[ $(id -u) -eq 0 ]] && echo "Read-only file system" || echo "Permission denied")
  # Before the model loads: a missing model is not even reached.
  expect ro-search 1 "$work/ro/run: directory $work/ro is not writable: $why" -- "$longrope" search --model "$work/nope" --data "$work/data" --target 2x --out "$work/ro/run" "${small[@]}"
  expect ro-eval 1 "$work/ro/e.json: directory $work/ro is not writable: $why" -- "$longrope" eval --model "$work/nope" --data "$work/data" --length 64 --json "$work/ro/e.json"
  mountpoint -q "$work/ro" && umount "$work/ro" || chmod 755 "$work/ro"
fi
echo "cli: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
