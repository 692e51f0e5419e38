"""What a rescaled RoPE costs: longrope eval's tokens/s under plain RoPE, PI, YaRN and a LongRoPE
table with n̂ = 16 (start_tokens), same model, length, document and dtype.

The methods differ only in the cos/sin table built once per (method, length), so the differences are
small and the measurement repeats: each repeat is one `longrope eval` process that runs an unscored
warm-up method (ntk) and then the four methods in an order rotated by one per repeat, so that no
method always runs first or last. A method's overhead is the median over repeats of its time divided
by plain RoPE's time in the same process, minus 1; the issue's target is <= 2 %.
Usage: python3 bench/rescale_cost.py [--model random-100m] [--length 4k] [--repeats 5] [--out R.json]
"""
import argparse
import json
import os

import bench_models
from benchlib import (CACHE, TEXT, default_longrope, default_out, fmt, machine_info, median, model_shape, our_eval,
                      parse_lengths, print_table, write_json)

METHODS = ("none", "pi", "yarn", "longrope")
WARMUP_METHOD = "ntk"    # its own table, never reported
START_TOKENS = 16        # n̂ of the LongRoPE table
TARGET_OVERHEAD_PERCENT = 2.0


def write_table(path, shape, length):
    """A LongRoPE factor table (results/factor_table.h) for this model at `length`: λ rises from 1 to
    s = length / L like a searched table's, n̂ = START_TOKENS, attention factor su (null)."""
    original = shape["original_length"]
    scale = max(1.0, length / original)
    half = shape["head_dim"] // 2
    lam = [1.0 + (scale - 1.0) * (i / (half - 1)) ** 2 for i in range(half)]
    table = {"format": "longrope-factor-table", "version": 1, "model": "bench", "rope_base": shape["rope_theta"],
             "head_dim": shape["head_dim"], "original_length": original, "target_length": length, "scale": scale,
             "lambda": lam, "start_tokens": START_TOKENS, "attention_factor": None}
    with open(path, "w") as f:
        json.dump(table, f, indent=2)
    return table


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="random-100m", help=f"one of {', '.join(bench_models.MODELS)}")
    parser.add_argument("--length", default="4k")
    parser.add_argument("--dtype", default="f32", choices=("f32", "bf16"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--longrope", default=None, help="our binary (default build-torch2/longrope, else build/longrope)")
    parser.add_argument("--out", default=None, help="JSON output (default bench/out/rescale_cost-DATE.json)")
    args = parser.parse_args()
    longrope = os.path.abspath(args.longrope or default_longrope())
    length = parse_lengths(args.length)[0]
    out = args.out or default_out("rescale_cost")
    if args.repeats < 1:
        raise SystemExit("--repeats must be >= 1")

    model_dir = bench_models.prepare_model(args.model, longrope)
    shape = model_shape(model_dir)
    token_files, _ = bench_models.prepare_tokens([length])
    table_path = os.path.join(CACHE, f"{args.model}-table-{length}-n{START_TOKENS}.json")
    table = write_table(table_path, shape, length)
    if length <= shape["original_length"]:
        print(f"note: length {length} <= the model's original length {shape['original_length']}: s = 1, so PI, YaRN and "
              f"the table compute plain RoPE; only the tables' cost is compared", flush=True)

    seconds = {m: [] for m in METHODS}
    ratios = {m: [] for m in METHODS}
    ppl, rss, orders = {}, [], []
    for r in range(args.repeats):
        order = list(METHODS[r % len(METHODS):] + METHODS[:r % len(METHODS)])
        orders.append(order)
        print(f"repeat {r + 1}/{args.repeats}: {WARMUP_METHOD} (warm-up), {', '.join(order)}", flush=True)
        result, m = our_eval(longrope, model_dir, token_files[length], length, args.dtype, [WARMUP_METHOD] + order,
                             args.threads, table=table_path)
        rss.append(m.peak_rss_bytes)
        timed = {x["method"]: x for x in result["results"][1:]}
        for method in METHODS:
            seconds[method].append(timed[method]["seconds"])
            ratios[method].append(timed[method]["seconds"] / timed["none"]["seconds"])
            ppl[method] = timed[method]["ppl"]

    methods = {}
    for method in METHODS:
        overhead = 100.0 * (median(ratios[method]) - 1.0)
        methods[method] = {
            "tokens_per_second": length / median(seconds[method]),
            "tokens_per_second_each": [length / s for s in seconds[method]], "seconds_each": seconds[method],
            "overhead_percent_vs_none": overhead, "ppl": ppl[method],
            "target_met": None if method == "none" else overhead <= TARGET_OVERHEAD_PERCENT,
        }
    report = {"benchmark": "rescale_cost", "machine": machine_info(), "device": "cpu", "dtype": args.dtype,
              "threads": args.threads, "length": length, "repeats": args.repeats, "model": args.model,
              "model_shape": shape, "longrope": longrope, "tokens": f"bytes of {TEXT}, repeated (id = byte value)",
              "warmup_method": WARMUP_METHOD, "orders": orders, "peak_rss_bytes": max(rss),
              "overhead": "median over repeats of (method seconds / none seconds in the same process) - 1",
              "target_overhead_percent": TARGET_OVERHEAD_PERCENT, "longrope_table": {"path": table_path, **table},
              "methods": methods}
    print(f"\n{report['machine']['cpu_model']}, {args.threads} threads, CPU, {args.model} {args.dtype}, length {length}, "
          f"{args.repeats} repeats")
    rows = []
    for method, r in methods.items():
        each = r["tokens_per_second_each"]
        rows.append([method if method != "longrope" else f"longrope (start {START_TOKENS})", fmt(r["tokens_per_second"], ".1f"),
                     fmt(min(each), ".1f"), fmt(max(each), ".1f"), fmt(r["overhead_percent_vs_none"], "+.2f"),
                     {True: "yes", False: "NO", None: "-"}[r["target_met"]], fmt(r["ppl"], ".4f")])
    print_table(["method", "tok/s (median)", "min", "max", "overhead %", f"<= {TARGET_OVERHEAD_PERCENT:g} %", "ppl"], rows)
    write_json(out, report)


if __name__ == "__main__":
    main()
