#!/usr/bin/env bash
# The RoPE-θ study on a character-level model: trains the same small LLaMA on tinyshakespeare once
# per RoPE base θ (same seed, data, windows and schedule) and tabulates validation loss and training
# speed per θ. Speed is measured separately, in short interleaved runs repeated in rotating order,
# so that a busy machine cannot favour one θ; the losses come from the full runs.
#   scripts/rope-theta-study.sh [--steps N] [--out DIR] [--longrope BIN] [--data FILE] [--phase all|losses|speed]
# Defaults: 300 steps, runs/rope-theta-study, build/longrope, ../shared/data/tinyshakespeare.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=300 out=runs/rope-theta-study longrope=build/longrope data=../shared/data/tinyshakespeare.txt
speed_steps=20 speed_rounds=3 phase=all
thetas=(500 1000 5000 10000 50000)
while [[ $# -gt 0 ]]; do
  case $1 in
    --steps) steps=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --longrope) longrope=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --phase) phase=$2; shift 2 ;;
    *) echo "usage: rope-theta-study.sh [--steps N] [--out DIR] [--longrope BIN] [--data FILE] [--phase all|losses|speed]" >&2; exit 2 ;;
  esac
done
[[ -f $data ]] || { echo "rope-theta-study: $data: no such file" >&2; exit 1; }
mkdir -p "$out"
# The model: 4 layers, hidden 128, 4 query / 2 key-value heads of 32, context 256, bytes (~0.8M parameters).
model=(--hidden 128 --layers 4 --heads 4 --kv-heads 2 --context 256 --batch 16 --lr 2e-3 --min-lr 2e-4 --seed 0 --threads 2)
for theta in "${thetas[@]}"; do
  [[ $phase == speed ]] && break
  echo "== θ = $theta: $steps steps" >&2
  "$longrope" train --data "$data" --out "$out/theta-$theta" "${model[@]}" --rope-theta "$theta" --steps "$steps" \
    --warmup $((steps / 10)) --eval-every $((steps / 5)) --checkpoint-every 0 --json "$out/theta-$theta.json" >"$out/theta-$theta.log"
done
[[ $phase == losses ]] && exit 0
for round in $(seq 1 $speed_rounds); do
  for i in "${!thetas[@]}"; do
    theta=${thetas[$(((i + round) % ${#thetas[@]}))]}
    echo "== speed round $round, θ = $theta" >&2
    "$longrope" train --data "$data" --out "$out/speed" "${model[@]}" --rope-theta "$theta" --steps $speed_steps --warmup 3 \
      --eval-every 0 --eval-batches 1 --checkpoint-every 0 --json "$out/speed-$round-$theta.json" >/dev/null
    rm -rf "$out/speed"
  done
done
python3 - "$out" "$speed_rounds" "${thetas[@]}" <<'PY'
import json, statistics, sys
out, rounds, thetas = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rows = []
for t in thetas:
    full = json.load(open(f"{out}/theta-{t}.json"))
    speeds = [json.load(open(f"{out}/speed-{r}-{t}.json"))["tokens_per_second"] for r in range(1, rounds + 1)]
    rows.append((t, full["final_valid_loss"], full["final_train_loss"], statistics.median(speeds), speeds, full["seconds"]))
base = next(r[3] for r in rows if r[0] == "10000")
with open(f"{out}/summary.csv", "w") as f:
    f.write("rope_theta,valid_loss,train_loss,tokens_per_second_median,speed_vs_10000,full_run_seconds\n")
    for t, v, tr, s, _, sec in rows:
        f.write(f"{t},{v:.4f},{tr:.4f},{s:.0f},{s / base:.3f},{sec:.0f}\n")
print("| θ | valid loss (nats/byte) | train loss | tokens/s (median of the speed runs) | vs θ = 10 000 |")
print("|---:|---:|---:|---:|---:|")
for t, v, tr, s, speeds, _ in rows:
    print(f"| {t} | {v:.4f} | {tr:.4f} | {s:.0f} ({', '.join(f'{x:.0f}' for x in speeds)}) | {s / base:.3f} |")
PY
