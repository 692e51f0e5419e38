#!/usr/bin/env python3
"""Which search settings give tables that hold on text nobody searched on, per unit of compute.

For each setting (how many windows a candidate is scored on, how many generations), a search runs
with validation on and K = 8 candidates re-scored there; then every one of those 8 candidates and
every baseline is scored on one fixed held-out set (books/test, windows from the books' bodies).
From that one run we read what the winner would have been with K = 1 (the reference: the best on
the search windows), 2, 4 and 8, and its held-out perplexity with a paired bootstrap 95 % interval
against YaRN from `longrope compare` (scripts/longrope_stats.py, the tool's one statistics module):
over books, then their windows, when the held-out windows are named PATH@WINDOW (eval names them so),
else over windows; the report's header says which. Runs resume: a finished search or evaluation is
not redone.

  scripts/trust_study.py --longrope build-torch2/longrope --target 8x --out runs/trust \
      --results results/books-bytes-3m/trust
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import longrope_stats  # noqa: E402

# name -> extra search options. Compute is measured (document forwards), not assumed.
SETTINGS = {
    "w1-t10": ["--windows", "1", "--generations", "10"],             # the reference's scoring: first windows
    "w2-t10": ["--windows", "2", "--skip-tokens", "8192", "--generations", "10"],
    "w4-t10": ["--windows", "4", "--skip-tokens", "8192", "--generations", "10"],
    "w1-t40": ["--windows", "1", "--generations", "40"],             # the reference's scoring, 4x the generations
}
KS = (1, 2, 4, 8)  # K: candidates re-scored on validation
# Dynamic NTK is left out: run fairly at the evaluation length (factor 1) it is NTK itself, and the
# transformers formula with factor s that older files scored is no baseline anyone would deploy.
# Scores are looked up by method name, so held-out files that still hold it read as before.
BASELINES = ["none", "pi", "ntk", "yarn"]
COMMON = ["--docs", "5", "--population", "32", "--mutants", "8", "--crossovers", "8", "--parents", "16",
          "--validation", "auto", "--validate-top", "8"]


def run(cmd):
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--longrope", default="build-torch2/longrope")
    p.add_argument("--model", default="models/shipped/books-bytes-3m")
    p.add_argument("--data", default="../shared/data/books/valid")
    p.add_argument("--heldout", default="../shared/data/books/test")
    p.add_argument("--target", default="8x")
    p.add_argument("--out", default="runs/trust")
    p.add_argument("--results", required=True)
    p.add_argument("--settings", default=",".join(SETTINGS))
    p.add_argument("--extra", default="", help="extra search options, space-separated (e.g. --objective needle)")
    p.add_argument("--threads", default="2")
    p.add_argument("--seed", default="42", help="the search's seed (runs of other seeds go to RUN-seedN)")
    p.add_argument("--heldout-windows", type=int, default=8, help="windows per held-out book (8 books)")
    a = p.parse_args()
    os.makedirs(a.results, exist_ok=True)
    rows = []
    for name in a.settings.split(","):
        out = os.path.join(a.out, f"{a.target}-{name}" + ("" if a.seed == "42" else f"-seed{a.seed}"))
        cmd = [a.longrope, "search", "--model", a.model, "--data", a.data, "--target", a.target, "--out", out,
               "--threads", a.threads, "--seed", a.seed, *COMMON, *SETTINGS[name], *a.extra.split()]
        if os.path.isdir(out):
            cmd.append("--resume")
        run(cmd)
        target_dir = next(os.path.join(out, d) for d in sorted(os.listdir(out)) if d.startswith(a.target))
        table = json.load(open(os.path.join(target_dir, "table.json")))
        length = table["target_length"]
        methods = list(BASELINES)
        for i in chosen_candidates(table):  # only the candidates some K would export
            c = table["validation_candidates"][i]
            t = dict(table)
            t.pop("checksum", None)
            t.pop("validation_candidates", None)
            t["lambda"], t["start_tokens"] = c["lambda"], c["start_tokens"]
            path = candidate_path(target_dir, i)
            json.dump(t, open(path, "w"))
            methods.append("table:" + path)
        heldout_json = os.path.join(target_dir, "heldout-study.json")
        if not os.path.exists(heldout_json):
            run([a.longrope, "eval", "--model", a.model, "--data", a.heldout, "--length", str(length), "--docs", "8",
                 "--windows", str(a.heldout_windows), "--skip-tokens", "8192", "--threads", a.threads,
                 "--method", ",".join(methods), "--json", heldout_json, "--resume"])
        rows.append((name, table, target_dir, json.load(open(heldout_json))))
    write_report(a, rows)


def candidate_path(target_dir, i):
    """Where the i-th validation candidate is written as a table (its eval method is "table:" + this)."""
    return os.path.join(target_dir, f"candidate-{i + 1}.json")


def chosen_for(table, k):
    """The index of the candidate exported with K: the best of the top K on validation (K = 1: on the search)."""
    pool = table["validation_candidates"][:k]
    return min(range(len(pool)), key=lambda i: pool[i]["validation_ppl"] if k > 1 else pool[i]["search_rank"])


def chosen_candidates(table):
    return sorted({chosen_for(table, k) for k in KS})


def window_nlls(result, method):
    """The (window name, mean NLL) of every window, and the perplexity, of one method of an eval."""
    for m in result["results"]:
        if m["method"] == method:
            return [(d["name"], d["mean_nll"]) for d in m["documents"]], m["ppl"]
    raise SystemExit(f"trust_study: the held-out scores have no method {method}")


def grouping(windows):
    """How to resample: by "book" when the windows are named PATH@WINDOW, several to a book, in at least 2 books;
    else by "window"."""
    if not all("@" in w for w, _ in windows):
        return "window"
    books = {w.rsplit("@", 1)[0] for w, _ in windows}
    return "book" if 2 <= len(books) < len(windows) else "window"


def write_report(a, rows):
    groups = {grouping(window_nlls(heldout, "yarn")[0]) for _, _, _, heldout in rows}
    over = ("the books, then their windows" if groups == {"book"} else
            "the windows (they are not named PATH@WINDOW by book)" if groups == {"window"} else
            "the books where the windows name them, else the windows")
    lines = [f"Search seed {a.seed}; held out: books/test, 8 books x {a.heldout_windows} windows after the first 8192 tokens. "
             f"Intervals: paired bootstrap 95 % over {over}, from `longrope compare` (scripts/longrope_stats.py).", "",
             f"| setting | windows scored | generations | document forwards | search wall s | K | chosen (search rank) "
             f"| held-out ppl | vs YaRN (95 % interval) | YaRN held-out |", "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    out = []
    for name, table, target_dir, heldout in rows:
        s = table["settings"]
        yarn, yarn_ppl = window_nlls(heldout, "yarn")
        group_by = grouping(yarn)
        baselines = {b: window_nlls(heldout, b)[1] for b in BASELINES}
        for k in KS:
            best = chosen_for(table, k)
            nll, ppl = window_nlls(heldout, "table:" + candidate_path(target_dir, best))
            c = longrope_stats.compare([nll], [yarn], group_by=group_by)
            lines.append(f"| {name} | {table['search_documents']} | {s['generations']} | {table['document_forwards']} "
                         f"| {table['wall_time_s']:.0f} | {k} | {best + 1} | {ppl:.4f} | {longrope_stats.interval_text(c)} "
                         f"| {yarn_ppl:.4f} |")
            out.append({"seed": int(a.seed), "baselines_heldout_ppl": baselines, "setting": name, "k": k,
                        "chosen_rank": best + 1, "heldout_ppl": ppl, "yarn_ppl": yarn_ppl,
                        "change_vs_yarn": c["change"], "low": c["low"], "high": c["high"], "group_by": group_by,
                        "search_windows": table["search_documents"],
                        "document_forwards": table["document_forwards"], "wall_time_s": table["wall_time_s"]})
    stem = f"study-{a.target}" + ("" if a.seed == "42" else f"-seed{a.seed}")
    open(os.path.join(a.results, f"{stem}.md"), "w").write("\n".join(lines) + "\n")
    json.dump(out, open(os.path.join(a.results, f"{stem}.json"), "w"), indent=1)
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
