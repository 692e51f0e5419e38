#!/usr/bin/env python3
"""The range study's report: for every ratio with a held-out file, each method's perplexity on the 64
held-out windows and the searched table's change against every baseline, with two paired bootstrap 95 %
intervals from `longrope compare` (scripts/longrope_stats.py): over windows, and over books then windows (the 8 windows of a book are consecutive text and
move together, so resampling books is the honest interval). Also the progressive comparison when its
files exist, and the tables on another kind of text (scripts/range_other_text.sh). Writes RESULTS/README.md's
tables into RESULTS/report.md and RESULTS/report.json.

  scripts/range_report.py [--results results/books-bytes-3m-l64]
"""
import argparse
import glob
import json
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import longrope_stats  # noqa: E402

# Dynamic NTK is left out: run fairly at the evaluation length (factor 1) it is NTK itself, and the
# transformers formula with factor s that older files scored is no baseline anyone would deploy.
BASELINES = ["none", "pi", "ntk", "yarn"]


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


def change(a, b, groups):
    """exp(mean NLL a − mean NLL b) − 1 and its 95 % interval, from `longrope compare` (the tool's one statistics
    module): a paired bootstrap over windows (groups=False), or over books then their windows."""
    c = longrope_stats.compare([a], [b], group_by="book" if groups else "window")
    return c["change"], c["low"], c["high"]


def pct(c):
    return f"{100 * c[0]:+.2f} % [{100 * c[1]:+.2f}, {100 * c[2]:+.2f}]"


def compare(methods):
    """The table against each baseline: window and book intervals."""
    table = methods["table"]
    return {m: {"windows": change(table, methods[m], False), "books": change(table, methods[m], True)}
            for m in BASELINES if m in methods}


def ratio_row(methods, first_cells):
    """One ratio's scores, best baseline and the table's changes, and its Markdown row after first_cells."""
    scores = {m: ppl(w) for m, w in methods.items()}
    best = min(BASELINES, key=lambda m: scores[m])
    c = compare(methods)
    row = (f"| {' | '.join(first_cells)} | " + " | ".join(f"{scores[m]:.4f}" for m in BASELINES) +
           f" | **{scores['table']:.4f}** | {best} | {pct(c[best]['windows'])} | {pct(c[best]['books'])} | "
           f"{pct(c['yarn']['books'])} |")
    return {"ppl": scores, "best_baseline": best, "table_vs": c}, row


def controls_section(prog, lines, report):
    """The first stage's controls (scripts/progressive_study.sh step 6), each against the progressive
    fine-tuned 64x table on the same 64 windows: a baseline given its own fine-tune (YaRN at 512, then every
    baseline at 64x on that model), the baselines composed over the 8x table the model was fine-tuned with,
    and a direct (not composed) 64x search on the fine-tuned model."""
    tuned_path = os.path.join(prog, "heldout-64x-progressive-finetuned.json")
    if not os.path.exists(tuned_path):
        return
    table = load(tuned_path)[0]["table"]
    controls = [("baselines on YaRN's own fine-tune at 512 (s = 8)", "heldout-64x-yarn-finetuned.json", BASELINES),
                ("baselines composed over the 8x table (fine-tuned model)", "heldout-64x-composed-baselines.json", BASELINES),
                ("direct 64x search on the fine-tuned model", "heldout-64x-direct-finetuned.json", ["table"])]
    rows, found = [], {}
    for name, file, methods in controls:
        path = os.path.join(prog, file)
        if not os.path.exists(path):
            continue
        held = load(path)[0]
        for m in (m for m in methods if m in held):
            c = change(table, held[m], True)
            found[f"{name}: {m}"] = {"ppl": ppl(held[m]), "progressive_vs_books": c}
            rows.append(f"| {name} | {m} | {ppl(held[m]):.4f} | {pct(c)} |")
    if rows:
        lines += ["", "## Progressive recipe at 64x: its controls (held out, the same 64 windows)", "",
                  f"The progressive fine-tuned 64x table scores {ppl(table):.4f}; each control beside it:", "",
                  "| control | method | ppl | progressive table against it (books) |", "|---|---|---:|---|"] + rows
        report["progressive_controls_64x"] = found


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
        entry, row = ratio_row(methods, [f"{ratio}x", str(length), optimizer])
        report["range"].append({"ratio": ratio, "length": length, "search": optimizer, **entry})
        lines.append(row)
    # The same tables on another kind of text (scripts/range_other_text.sh: one file, consecutive
    # windows): intervals over windows and over blocks of 4 consecutive windows, which stand in for books.
    for other in sorted(glob.glob(os.path.join(args.results, "range", "other-*"))):
        text = os.path.basename(other)[len("other-"):]
        rows = []
        found = sorted((int(m[1]), path) for path in glob.glob(os.path.join(other, "heldout-*x.json"))
                       if (m := re.fullmatch(r"heldout-(\d+)x\.json", os.path.basename(path))))
        for ratio, path in found:
            methods, length = load(path)
            methods = {m: [(f"block{i // 4}", x) for i, (_, x) in enumerate(w)] for m, w in methods.items()}
            windows = len(methods["table"])
            entry, row = ratio_row(methods, [f"{ratio}x", str(length), str(windows)])
            report.setdefault("other_text", {}).setdefault(text, []).append(
                {"ratio": ratio, "length": length, "windows": windows, **entry})
            rows.append(row)
        if rows:
            lines += ["", f"## Another kind of text: {text} (never searched on; consecutive windows from its start)", "",
                      "| ratio | length | windows | " + " | ".join(BASELINES) + " | searched | best baseline | "
                      "change vs best (windows) | change vs best (blocks of 4) | vs YaRN (blocks of 4) |",
                      "|---" * (len(BASELINES) + 8) + "|"] + rows
    prog = os.path.join(args.results, "progressive")
    # The recipe's two stages: 64x from the 8x table (fine-tuned at 512), 512x from the 64x table
    # (fine-tuned at 4096); each beside the direct search at the same ratio.
    for ratio, length, tuned_at in [(64, 4096, 512), (512, 32768, 4096)]:
        rows, stage = [], {}
        for name, path in [("direct search (original model)", os.path.join(args.results, "range", f"heldout-{ratio}x.json")),
                           ("progressive, no fine-tune (original model)", os.path.join(prog, f"heldout-{ratio}x-progressive.json")),
                           (f"progressive, fine-tuned at {tuned_at} (fine-tuned model)",
                            os.path.join(prog, f"heldout-{ratio}x-progressive-finetuned.json"))]:
            if not os.path.exists(path):
                continue
            methods, _ = load(path)
            if name.startswith("progressive, no"):  # its baselines are the direct search's (same model, windows)
                if not stage:
                    continue
                methods = {**{m: w for m, w in direct.items() if m != "table"}, **methods}
            if name.startswith("direct"):
                direct = methods
            scores = {m: ppl(w) for m, w in methods.items()}
            best = min((m for m in BASELINES if m in scores), key=lambda m: scores[m])
            c = compare(methods)
            stage[name] = {"ppl": scores, "best_baseline": best, "table_vs": c, "windows": methods["table"]}
            rows.append(f"| {name} | {scores['table']:.4f} | {best} {scores[best]:.4f} | {pct(c[best]['books'])} |")
        if not rows:
            continue
        names = list(stage)
        lines += ["", f"## Progressive recipe at {ratio}x ({length} tokens), held out", "",
                  "| route | searched table | best baseline on that model | change vs it (books) |", "|---|---:|---|---|"] + rows
        if ratio == 512:
            lines.append("\nAt 512x the progressive searches are the paper's halved search for its longest windows (288 "
                         "forwards against the direct search's 960), and the twice fine-tuned model's baselines are NTK and "
                         "YaRN only.")
        if names[0].startswith("direct"):
            for n in names[1:]:
                stage[n]["vs_direct_books"] = change(stage[n]["windows"], stage[names[0]]["windows"], True)
                lines.append(f"\n{n} against the direct search (books): {pct(stage[n]['vs_direct_books'])}")
        for k in stage.values():
            k.pop("windows")
        report["progressive"][f"{ratio}x"] = stage
    controls_section(prog, lines, report)
    short = [(n, os.path.join(prog, f"short-64-{n}.json")) for n in ("original", "finetuned", "finetuned-4096")]
    short = [(n, f) for n, f in short if os.path.exists(f)]
    if len(short) > 1 and short[0][0] == "original":
        s = {n: ppl(load(f)[0]["none"]) for n, f in short}
        report["short"] = s
        tuned = {"finetuned": "fine-tuned at 512", "finetuned-4096": "fine-tuned again at 4096"}
        lines += ["", f"Short context (L = 64, plain RoPE, 64 windows): original {s['original']:.4f}, " +
                  ", ".join(f"{tuned[n]} {s[n]:.4f} ({100 * (s[n] / s['original'] - 1):+.2f} %)" for n in s if n != "original") + "."]
    # The fine-tuned model's short table (search --short) against plain RoPE and the 8x table it was
    # fine-tuned with, at L (the paper's Table 10).
    tables_path = os.path.join(prog, "short-64-finetuned-tables.json")
    if os.path.exists(tables_path):
        results = json.load(open(tables_path))["results"]
        windows = [[(d["name"].rsplit("@", 1)[0], d["mean_nll"]) for d in r["documents"]] for r in results]
        named = ["plain RoPE", "its short table", "the 8x table it was fine-tuned with"]
        report["short_tables"] = {}
        lines += ["", "Fine-tuned model at L = 64 (64 windows; change against plain RoPE, books):", ""]
        for i, name in enumerate(named[:len(results)]):
            entry = {"method": results[i]["method"], "ppl": ppl(windows[i])}
            text = f"- {name}: {entry['ppl']:.4f}"
            if i > 0:
                entry["vs_plain_books"] = change(windows[i], windows[0], True)
                text += f" ({pct(entry['vs_plain_books'])})"
            report["short_tables"][name] = entry
            lines.append(text)
    open(os.path.join(args.results, "report.md"), "w").write("\n".join(lines) + "\n")
    json.dump(report, open(os.path.join(args.results, "report.json"), "w"), indent=1)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
