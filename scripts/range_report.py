#!/usr/bin/env python3
"""The range study's report: for every ratio with a held-out file, each method's perplexity on the 64
held-out windows and the searched table's change against every baseline, with two paired bootstrap 95 %
intervals: over windows (the tool's) and over books (the 8 windows of a book are consecutive text and
move together, so resampling books is the honest interval). Also the progressive comparison when its
files exist. Writes RESULTS/README.md's tables into RESULTS/report.md and RESULTS/report.json.

  scripts/range_report.py [--results results/books-bytes-3m-l64]
"""
import argparse
import glob
import json
import math
import os
import random
import re

BASELINES = ["none", "pi", "ntk", "dynamic-ntk", "yarn"]


def load(path):
    """{method: [(book, mean_nll)] in window order}, length, scale."""
    d = json.load(open(path))
    out = {}
    for r in d["results"]:
        name = "table" if r["method"].startswith("table:") else r["method"]
        out[name] = [(doc["name"].rsplit("@", 1)[0], doc["mean_nll"]) for doc in r["documents"]]
    return out, d["length"]


def ppl(windows):
    return math.exp(sum(x for _, x in windows) / len(windows))


def change(a, b, groups, seed=1, draws=4000):
    """exp(mean NLL a − mean NLL b) − 1, with a paired bootstrap over windows (groups=False) or books."""
    diffs = [x[1] - y[1] for x, y in zip(a, b)]
    point = math.exp(sum(diffs) / len(diffs)) - 1
    rng = random.Random(seed)
    if groups:
        books = {}
        for (book, _), d in zip(a, diffs):
            books.setdefault(book, []).append(d)
        units = list(books.values())
    else:
        units = [[d] for d in diffs]
    samples = []
    for _ in range(draws):
        pick = [units[rng.randrange(len(units))] for _ in units]
        flat = [d for u in pick for d in u]
        samples.append(math.exp(sum(flat) / len(flat)) - 1)
    samples.sort()
    return point, samples[int(0.025 * draws)], samples[int(0.975 * draws) - 1]


def pct(c):
    return f"{100 * c[0]:+.2f} % [{100 * c[1]:+.2f}, {100 * c[2]:+.2f}]"


def compare(methods):
    """The table against each baseline: window and book intervals."""
    table = methods["table"]
    return {m: {"windows": change(table, methods[m], False), "books": change(table, methods[m], True)}
            for m in BASELINES if m in methods}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--results", default="results/books-bytes-3m-l64")
    args = p.parse_args()
    report = {"range": [], "progressive": {}}
    lines = ["## Held out, per ratio (books/test, 8 books x 8 body windows)", "",
             "| ratio | length | search | " + " | ".join(BASELINES) + " | searched | best baseline | change vs best (windows) | "
             "change vs best (books) | vs YaRN (books) |", "|---" * (len(BASELINES) + 8) + "|"]
    # heldout-RATIOx.json (the evolution) and heldout-RATIOx-OPTIMIZER.json (scripts/range_study.sh --optimizer).
    found = []
    for path in glob.glob(os.path.join(args.results, "range", "heldout-*.json")):
        m = re.fullmatch(r"heldout-(\d+)x(?:-(\w+))?\.json", os.path.basename(path))
        if m:
            found.append((int(m[1]), m[2] or "evolution", path))
    for ratio, optimizer, path in sorted(found):
        methods, length = load(path)
        scores = {m: ppl(w) for m, w in methods.items()}
        best = min(BASELINES, key=lambda m: scores[m])
        c = compare(methods)
        report["range"].append({"ratio": ratio, "length": length, "search": optimizer, "ppl": scores, "best_baseline": best,
                                "table_vs": c})
        lines.append(f"| {ratio}x | {length} | {optimizer} | " + " | ".join(f"{scores[m]:.4f}" for m in BASELINES) +
                     f" | **{scores['table']:.4f}** | {best} | {pct(c[best]['windows'])} | {pct(c[best]['books'])} | "
                     f"{pct(c['yarn']['books'])} |")
    prog = os.path.join(args.results, "progressive")
    rows = []
    for name, path in [("direct search (original model)", os.path.join(args.results, "range", "heldout-64x.json")),
                       ("progressive, no fine-tune (original model)", os.path.join(prog, "heldout-64x-progressive.json")),
                       ("progressive, fine-tuned at 512 (fine-tuned model)", os.path.join(prog, "heldout-64x-progressive-finetuned.json"))]:
        if not os.path.exists(path):
            continue
        methods, length = load(path)
        scores = {m: ppl(w) for m, w in methods.items()}
        best = min(BASELINES, key=lambda m: scores[m])
        c = compare(methods)
        report["progressive"][name] = {"ppl": scores, "best_baseline": best, "table_vs": c, "windows": methods["table"]}
        rows.append(f"| {name} | {scores['table']:.4f} | {best} {scores[best]:.4f} | {pct(c[best]['books'])} |")
    names = list(report["progressive"])
    if len(names) > 1:
        first = report["progressive"][names[0]]["windows"]
        for n in names[1:]:
            report["progressive"][n]["vs_direct_books"] = change(report["progressive"][n]["windows"], first, True)
    if rows:
        lines += ["", "## Progressive recipe at 64x (4096 tokens), held out", "",
                  "| route | searched table | best baseline on that model | change vs it (books) |", "|---|---:|---|---|"] + rows
        for n in names[1:]:
            lines.append(f"\n{n} against the direct search (books): {pct(report['progressive'][n]['vs_direct_books'])}")
    for k in report["progressive"].values():
        k.pop("windows", None)
    short = [(n, os.path.join(prog, f"short-64-{n}.json")) for n in ("original", "finetuned")]
    if all(os.path.exists(f) for _, f in short):
        s = {n: ppl(load(f)[0]["none"]) for n, f in short}
        report["short"] = s
        lines += ["", f"Short context (L = 64, plain RoPE, 64 windows): original {s['original']:.4f}, fine-tuned "
                      f"{s['finetuned']:.4f} ({100 * (s['finetuned'] / s['original'] - 1):+.2f} %)."]
    open(os.path.join(args.results, "report.md"), "w").write("\n".join(lines) + "\n")
    json.dump(report, open(os.path.join(args.results, "report.json"), "w"), indent=1)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
