"""Markdown tables and plots from benchmark JSON files, for results/performance.md.

Reads any mix of eval_throughput, gemm_peak, rescale_cost and search_throughput JSON files, prints
one Markdown table per kind (eval_throughput rows with a GEMM peak get a second one: model FLOPs,
achieved GFLOP/s and % of the peak per system), and with --plot DIR draws tokens/s against length per system (one PNG + SVG per model
and dtype, gnuplot). Nothing is measured here.
Usage: python3 bench/report.py bench/out/*.json [--plot results/performance]
"""
import argparse
import json
import os
import subprocess
import sys

SYSTEMS = ("ours", "transformers", "llama.cpp")


def kind(doc):
    if doc.get("benchmark") == "gemm_peak":
        return "gemm"
    if "rows" in doc and "software" in doc:
        return "eval"
    if "methods" in doc and "overhead" in doc:
        return "rescale"
    if "runs" in doc and "search" in doc:
        return "search"
    return None


def k(length):
    return f"{length // 1024}k" if length % 1024 == 0 else str(length)


def eval_rows(docs):
    rows = {}
    for d in docs:
        for r in d["rows"]:
            rows[(r["model"], r["dtype"], r["length"])] = r  # a later file replaces an earlier measurement
    return [rows[key] for key in sorted(rows, key=lambda t: (t[0] != "shipped-3m", t[0], t[1] != "f32", t[2]))]


def rate(r, system):
    s = r.get(system)
    return None if not s or "error" in s else s["tokens_per_second"]


def cell(v, spec):
    return "–" if v is None else format(v, spec)


def print_eval(rows):
    print("| model | dtype | length | ours tok/s | transformers tok/s | llama.cpp tok/s | ours / transformers | ours / llama.cpp "
          "| peak RSS MiB (ours / hf / l.cpp) | ppl agree |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|:---:|")
    for r in rows:
        o, h, l = (rate(r, s) for s in SYSTEMS)
        rss = " / ".join(cell(r[s]["peak_rss_bytes"] / 2**20 if r.get(s) and "peak_rss_bytes" in r[s] else None, ".0f")
                         for s in SYSTEMS)
        agree = r.get("ppl_agreement", {}).get("agrees")
        print(f"| {r['model']} | {r['dtype']} | {k(r['length'])} | {cell(o, '.0f')} | {cell(h, '.0f')} | {cell(l, '.0f')} "
              f"| {cell(o / h if o and h else None, '.2f')} | {cell(o / l if o and l else None, '.2f')} | {rss} "
              f"| {'yes' if agree else ('no' if agree is False else '–')} |")


def print_eval_peak(rows):
    rows = [r for r in rows if "model_gflop_per_forward" in r]
    if not rows:
        return
    print("| model | dtype | length | GFLOP / forward | GEMM peak GFLOP/s | ours GFLOP/s (% peak) "
          "| transformers GFLOP/s (% peak) | llama.cpp GFLOP/s (% peak) | ours / transformers |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        def both(system):
            s = r.get(system) or {}
            achieved, util = s.get("model_flops_per_second"), s.get("utilisation_of_gemm_peak")
            return "–" if achieved is None else f"{achieved / 1e9:.1f}" + (f" ({100 * util:.1f} %)" if util else "")
        o, h = rate(r, "ours"), rate(r, "transformers")
        peak = r.get("gemm_peak_flops")
        print(f"| {r['model']} | {r['dtype']} | {k(r['length'])} | {r['model_gflop_per_forward']:.1f} "
              f"| {cell(peak / 1e9 if peak else None, '.1f')} | {both('ours')} | {both('transformers')} | {both('llama.cpp')} "
              f"| {cell(o / h if o and h else None, '.2f')} |")


def print_gemm(docs):
    print("| CPU | threads | torch | f32 peak GFLOP/s (shape) | bf16 peak GFLOP/s (shape) |")
    print("|---|---:|---|---:|---:|")
    for d in docs:
        def peak(dtype):
            e = d["dtypes"].get(dtype)
            if not e:
                return "–"
            return f"{e['peak_flops'] / 1e9:.1f} ({e['peak_shape']})" if e.get("measured") else e["reason"]
        print(f"| {d['machine']['cpu_model']} | {d['threads']} | {d['software']['torch']} | {peak('f32')} | {peak('bf16')} |")


def print_rescale(docs):
    print("| model | dtype | length | repeats | method | tokens/s (median) | overhead vs none (median of paired ratios) "
          "| within 2 % |")
    print("|---|---|---:|---:|---|---:|---:|:---:|")
    for d in docs:
        for name, m in d["methods"].items():
            over = m.get("overhead_percent_vs_none")
            within = "–" if name == "none" else ("yes" if m.get("target_met") else "no")
            print(f"| {d['model']} | {d['dtype']} | {k(d['length'])} | {d['repeats']} | {name} | {m['tokens_per_second']:.0f} "
                  f"| {cell(over, '+.2f')} % | {within} |")


def print_search(docs):
    from search_throughput import compare  # noqa: E402 (same directory)
    for d in docs:
        if "summary" not in d:  # an interrupted run: compare what finished
            compare(d)
    print("| config | seed | evaluations | document forwards | raced out | search s | evaluations/h | forwards saved "
          "| speed-up | same winner | winner ppl |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|:---:|---:|")
    for d in docs:
        for r in d["runs"]:
            v = r.get("vs_plain", {})
            print(f"| {r['config']} | {r['seed']} | {r['evaluations']} | {r['document_forwards']} | {r['raced_out']} "
                  f"| {r['search_seconds']:.1f} | {r['evaluations_per_hour']:.0f} | {cell(v.get('forwards_saved_percent'), '.1f')} % "
                  f"| {cell(v.get('speedup'), '.2f')} | {'yes' if v.get('same_winner') else 'no'} | {r['winner']['search_ppl']:.4f} |")


def plot_eval(rows, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    groups = {}
    for r in rows:
        groups.setdefault((r["model"], r["dtype"]), []).append(r)
    for (model, dtype), rs in groups.items():
        base = os.path.join(out_dir, f"throughput-{model}-{dtype}")
        with open(base + ".dat", "w") as f:
            f.write("# length ours transformers llama.cpp (tokens/s; ? = not measured)\n")
            for r in rs:
                f.write(f"{r['length']} " + " ".join(cell(rate(r, s), ".1f").replace("–", "?") for s in SYSTEMS) + "\n")
        for term, ext in (("pngcairo size 800,500", "png"), ("svg size 800,500", "svg")):
            script = f"""set terminal {term}
set output '{base}.{ext}'
set title '{model}, {dtype}, CPU: forward + NLL of one document'
set xlabel 'tokens'
set ylabel 'tokens/s'
set logscale x 2
set logscale y
set grid
set key top right
set datafile missing '?'
plot '{base}.dat' using 1:2 with linespoints lw 2 title 'longrope', \\
     '' using 1:3 with linespoints lw 2 title 'transformers (sdpa)', \\
     '' using 1:4 with linespoints lw 2 title 'llama.cpp (llama-perplexity)'
"""
            subprocess.run(["gnuplot"], input=script, text=True, check=True)
        print(f"wrote {base}.png, {base}.svg", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--plot", default=None, help="directory for the throughput plots")
    args = parser.parse_args()
    by_kind = {"eval": [], "gemm": [], "rescale": [], "search": []}
    for path in args.files:
        with open(path) as f:
            doc = json.load(f)
        if kind(doc):
            by_kind[kind(doc)].append(doc)
        else:
            print(f"{path}: not a benchmark JSON, skipped", file=sys.stderr)
    if by_kind["eval"]:
        rows = eval_rows(by_kind["eval"])
        print_eval(rows)
        print()
        if any("model_gflop_per_forward" in r for r in rows):
            print_eval_peak(rows)
            print()
        if args.plot:
            plot_eval(rows, args.plot)
    if by_kind["gemm"]:
        print_gemm(by_kind["gemm"])
        print()
    if by_kind["rescale"]:
        print_rescale(by_kind["rescale"])
        print()
    if by_kind["search"]:
        print_search(by_kind["search"])


if __name__ == "__main__":
    main()
