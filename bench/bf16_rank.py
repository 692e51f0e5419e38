"""Does bf16 rank a generation's candidates as f32 does? Screening in bf16 (f32 for the finalists) is
one of issue 40's cheap configurations; it pays only if bf16's order matches f32's where selection
happens.

Takes a finished search run (its evaluations journal and table), re-scores two generations' candidates
on the search's own windows in f32 and in bf16 with `longrope eval`, and reports Spearman's rank
correlation over each generation and over its best quarter (by f32), whether bf16's best is f32's
best, and what a bf16 forward costs against an f32 one on this CPU (without native bf16 it is slower,
not faster: the table records the CPU's flags).

    python3 bench/bf16_rank.py --run results/search-efficiency/runs/16x/evolution-paper-s42/16x-1024 \\
        --threads 2 --out bench/out/bf16-rank.json     # the run's own --data, --docs, --skip-tokens
"""
import argparse
import json
import lzma
import os
import sys
import tempfile

from benchlib import default_longrope, default_out, machine_info, run_measured, write_json


def journal_lines(target):
    """The evaluations journal's candidate lines, in evaluation order (plain or .xz)."""
    plain = os.path.join(target, "evaluations.jsonl")
    opener = (open, plain) if os.path.exists(plain) else (lzma.open, plain + ".xz")
    with opener[0](opener[1], "rt") as f:
        lines = [json.loads(line) for line in f if line.strip()]
    return [line for line in lines if "key" in line]


def genome_table(table, key, step):
    """A table JSON for one journal key ("n̂,index,index,...": λ_i = 1 + step·index)."""
    fields = [int(x) for x in key.split(",")]
    out = {k: v for k, v in table.items() if k in ("format", "version", "head_dim", "rope_base", "original_length",
                                                     "target_length", "scale", "attention_factor", "model")}
    out["start_tokens"] = fields[0]
    out["lambda"] = [round(1.0 + i * step, 9) for i in fields[1:]]
    return out


def ranks(values):
    """Ranks from 1, ties sharing their mean rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    r = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def spearman(a, b):
    ra, rb = ranks(a), ranks(b)
    n = len(a)
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    var = (sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb)) ** 0.5
    return cov / var if var else None


def score(args, tables, dtype, work):
    """Each table's mean NLL over the search windows in `dtype`, and the eval's seconds per window."""
    out = os.path.join(work, f"{dtype}.json")
    methods = ",".join(f"table:{t}" for t in tables)
    run_measured([args.longrope, "eval", "--model", args.model, "--data", args.data, "--docs", str(args.docs),
                      "--skip-tokens", str(args.skip_tokens), "--length", str(args.length), "--method", methods,
                      "--dtype", dtype, "--threads", str(args.threads), "--json", out]).check()
    with open(out) as f:
        results = json.load(f)["results"]
    seconds = sum(r["seconds"] for r in results) / sum(len(r["documents"]) for r in results)
    return [r["mean_nll"] for r in results], seconds


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--run", required=True, help="a search target directory (table.json, evaluations.jsonl[.xz])")
    p.add_argument("--data", help="the search's documents (default: the run's own --data)")
    p.add_argument("--docs", type=int, help="default: the run's")
    p.add_argument("--skip-tokens", type=int, help="default: the run's")
    p.add_argument("--longrope", default=default_longrope())
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=default_out("bf16_rank"))
    args = p.parse_args()
    with open(os.path.join(args.run, "table.json")) as f:
        table = json.load(f)
    settings = table["settings"]
    args.data = args.data or settings["data"]
    args.docs = args.docs or settings["docs"]
    args.skip_tokens = settings["skip_tokens"] if args.skip_tokens is None else args.skip_tokens
    population, children = settings["population"], settings["mutants"] + settings["crossovers"]
    args.model, args.length = table["model"], table["target_length"]
    lines = journal_lines(args.run)
    # Generation 0 (the initial population) and the last generation's children, as the journal holds them.
    generations = {"first": lines[:population], "last": lines[-children:]}
    report = {"machine": machine_info(), "run": os.path.relpath(os.path.abspath(args.run)), "data": args.data,
              "docs": args.docs, "length": args.length, "threads": args.threads, "generations": {}}
    with tempfile.TemporaryDirectory() as work:
        for name, gen in generations.items():
            paths = []
            for i, line in enumerate(gen):
                path = os.path.join(work, f"{name}-{i}.json")
                with open(path, "w") as f:
                    json.dump(genome_table(table, line["key"], settings["step"]), f)
                paths.append(path)
            f32, f32_s = score(args, paths, "f32", work)
            bf16, bf16_s = score(args, paths, "bf16", work)
            f32_best = min(range(len(f32)), key=lambda i: f32[i])
            journal = [sum(line["document_nll"]) / len(line["document_nll"]) for line in gen]
            best_quarter = sorted(range(len(f32)), key=lambda i: f32[i])[:max(4, len(f32) // 4)]
            g = {"candidates": len(gen), "spearman": spearman(f32, bf16),
                 "spearman_best_quarter": spearman([f32[i] for i in best_quarter], [bf16[i] for i in best_quarter]),
                 "best_agrees": f32_best == min(range(len(bf16)), key=lambda i: bf16[i]),
                 "f32_best_rank_in_bf16": ranks(bf16)[f32_best],
                 "max_abs_f32_vs_journal": max(abs(a - b) for a, b in zip(f32, journal)),
                 "mean_abs_bf16_vs_f32": sum(abs(a - b) for a, b in zip(f32, bf16)) / len(f32),
                 "seconds_per_window": {"f32": f32_s, "bf16": bf16_s}, "f32_nll": f32, "bf16_nll": bf16}
            report["generations"][name] = g
            print(f"{name} generation ({len(gen)} candidates): Spearman {g['spearman']:.3f}, best quarter "
                  f"{g['spearman_best_quarter']:.3f}; f32's best is bf16's #{g['f32_best_rank_in_bf16']:.0f}; "
                  f"|bf16 - f32| {g['mean_abs_bf16_vs_f32']:.4f} nats; a window takes {bf16_s:.3f} s in bf16, "
                  f"{f32_s:.3f} s in f32 (f32 vs the journal: {g['max_abs_f32_vs_journal']:.1e})", flush=True)
    write_json(args.out, report)


if __name__ == "__main__":
    sys.exit(main())
