#!/usr/bin/env python3
"""results/deployment.md from scripts/deployment_study.sh's curves: what each runtime's user gets.

For each case and runtime: perplexity at every length from L/2 to sL of plain RoPE, YaRN(s) and NTK(s)
as configs hold them, the deploy-searched table and the sL-searched table with n̂ dropped; the mean
over the served lengths (2L .. sL) of each table against the best baseline config there; what the
tables cost at L/2 and L against plain RoPE; and at sL what n̂ = 0 and the served-lengths objective
cost. Every interval is `longrope compare`'s (scripts/longrope_stats.py), bootstrap over books then
windows (8 books x 8 windows).
  scripts/deployment_report.py [--results results/deployment]
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from longrope_stats import compare_files, interval_text  # noqa: E402

RUNTIMES = ["transformers", "vllm", "llama.cpp"]
BASELINES = ["yarn", "ntk", "none"]
CASES = {"shipped-8x": "books-bytes-3m (L = 256) at 8x", "l64-16x": "books-bytes-3m-l64 (L = 64) at 16x",
         "l64-64x": "books-bytes-3m-l64 (L = 64) at 64x"}


def compare(a, b):
    return compare_files(a, b, group_by="book")


def methods_of(curve):
    names = []
    for r in curve["results"]:
        if r["method"] not in names:
            names.append(r["method"])
    return names


def label(method, deployed, searched):
    return {deployed: "deploy-searched", searched: "sL-searched, n̂ dropped"}.get(method, method)


def case_report(directory, name):
    curves = {r: json.load(open(os.path.join(directory, f"curve-{r}.json"))) for r in RUNTIMES}
    first = curves["transformers"]
    original, lengths = first["original_length"], first["lengths"]
    target = max(lengths)
    methods = methods_of(first)
    deployed, searched = [m for m in methods if m.startswith("table:")]
    served = f"{2 * original}-{target}"
    lines = [f"## {CASES.get(name, name)}", ""]
    summary = {"original_length": original, "target_length": target, "runtimes": {}}
    table_meta = json.load(open(deployed[len("table:"):]))
    lines += [f"Deploy-searched table: `{deployed[len('table:'):]}` (serve lengths {table_meta['deploy']['serve_lengths']}, "
              f"n̂ = {table_meta['start_tokens']}); its search's verdict: {table_meta['verdict'].get('recommend')} "
              f"against {table_meta['verdict'].get('best_baseline')}.", ""]
    first_path = os.path.join(directory, "curve-transformers.json")
    for runtime in RUNTIMES:
        curve = curves[runtime]
        path = os.path.join(directory, f"curve-{runtime}.json")
        # A runtime scored at L/2 and L only (scripts/deployment_study.sh): beyond L its rule runs the long
        # factors as transformers' does, so those lengths come from transformers' curve.
        own_lengths = set(curve["lengths"])
        ppl = {(r["method"], r["length"]): r["ppl"] for r in first["results"] if r["length"] not in own_lengths}
        ppl.update({(r["method"], r["length"]): r["ppl"] for r in curve["results"]})
        served_path = path if max(own_lengths) > original else first_path
        borrowed = "" if served_path == path else " (lengths beyond L from transformers' curve: the same long factors)"
        # Scored at L/2 and L only, a curve lays its windows out at L (each book's first 8 windows of L
        # after the skip), not as prefixes of the sL windows: compare these columns within the runtime.
        windows_note = [] if served_path == path else [
            f"At {original // 2} and {original} this runtime's curve has its own windows (8 of {original} tokens per book), "
            "not the prefixes of transformers' longer windows: compare those columns within this table, not across runtimes."]
        lines += [f"### As {runtime} runs it{borrowed}", "",
                  "| method | " + " | ".join(f"{l}{' (L)' if l == original else ''}" for l in lengths) + " |",
                  "|---|" + "---:|" * len(lengths)]
        for m in methods:
            lines.append(f"| {label(m, deployed, searched)} | " + " | ".join(f"{ppl[(m, l)]:.4f}" for l in lengths) + " |")
        lines += [""] + windows_note if windows_note else []
        mean = {m: compare(f"{served_path}:{m}@{served}", f"{served_path}:none@{served}")["a"]["ppl"] for m in methods}
        best = min(BASELINES, key=lambda m: mean[m])
        result = {"served_mean_ppl": mean, "best_baseline": best, "tables": {}}
        lines += ["", f"Mean over the served lengths {2 * original}..{target} (best baseline config: {best}, {mean[best]:.4f}):", ""]
        for m in (deployed, searched):
            c = compare(f"{served_path}:{m}@{served}", f"{served_path}:{best}@{served}")
            short = {l: compare(f"{path}:{m}@{l}", f"{path}:none@{l}") for l in (original // 2, original)}
            verdict = "deploy the table" if c["high"] < 0 else f"deploy {best}"
            result["tables"][label(m, deployed, searched)] = {"vs_best": c, "short_vs_none": {str(l): v for l, v in short.items()},
                                                              "verdict": verdict}
            lines.append(f"- {label(m, deployed, searched)}: {mean[m]:.4f}, {interval_text(c)} against {best}: **{verdict}**; "
                         f"at L/2 {interval_text(short[original // 2])} and at L {interval_text(short[original])} against plain RoPE")
        lines.append("")
        summary["runtimes"][runtime] = result
    full = [r for r in RUNTIMES[1:] if max(curves[r]["lengths"]) > original]
    if full:  # the evidence for scoring the others at L/2 and L only
        first_ppl = {(r["method"], r["length"]): r["ppl"] for r in first["results"]}
        gap = max(abs(r["ppl"] - first_ppl[(r["method"], r["length"])]) for n in full for r in curves[n]["results"]
                  if r["length"] > original)
        lines += [f"Beyond L, {' and '.join(full)} score every method within {gap:.1e} of transformers (the same long factors).", ""]
    path = os.path.join(directory, "curve-transformers.json")
    at_target = f"{path}:{searched}@{target}"
    n_hat = compare(at_target, f"{os.path.join(directory, 'searched-as-searched.json')}:{searched}")
    objective = compare(f"{path}:{deployed}@{target}", at_target)
    summary["cost_at_target"] = {"n_hat_dropped_vs_kept": n_hat, "deploy_vs_searched": objective}
    searched_n_hat = json.load(open(searched[len("table:"):]))["start_tokens"]
    summary["cost_at_target"]["searched_start_tokens"] = searched_n_hat
    lines += [f"At sL = {target}: dropping n̂ = {searched_n_hat} from the sL-searched table costs {interval_text(n_hat)}"
              f"{' (it has none to drop)' if searched_n_hat == 0 else ''}; the deploy-searched table "
              f"against the sL-searched one (n̂ dropped) {interval_text(objective)}.", ""]
    return lines, summary


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--results", default="results/deployment")
    args = p.parse_args()
    lines = ["# What a deployment gets", "",
             "Made by `scripts/deployment_study.sh` and `scripts/deployment_report.py`. Held out on books/test (8 books x 8 body "
             "windows); each runtime's rule as `--runtime` emulates it (checked against transformers 4.x and 5.x and llama.cpp by "
             "tests/python/runtime_parity.py; vLLM's rule from its source, see runtimes.md). Baselines as configs hold them: YaRN and "
             "NTK at the fixed s. Intervals: `longrope compare --group-by book` (bootstrap over books, then windows).", ""]
    report = {}
    for name in CASES:
        directory = os.path.join(args.results, name)
        if not all(os.path.exists(os.path.join(directory, f"curve-{r}.json")) for r in RUNTIMES):
            lines += [f"## {CASES[name]}", "", "(not measured yet)", ""]
            continue
        case_lines, report[name] = case_report(directory, name)
        lines += case_lines
    with open(os.path.join(os.path.dirname(args.results.rstrip("/")), "deployment.md"), "w") as f:
        f.write("\n".join(lines))
    with open(os.path.join(args.results, "report.json"), "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
