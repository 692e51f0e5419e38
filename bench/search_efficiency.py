"""What a search costs against what it finds: held-out perplexity of the winner per forward-equivalent.

Each configuration is one `longrope search` on books/valid (5 documents, one window each after the
books' first 8192 bytes, the range study's search set), chosen by the same validation rule, then its
table scored on held-out text (books/test, 8 books x 8 windows from the books' bodies). Compute is
counted in forward-equivalents: a candidate's document forward = 1; a gradient step = its measured
forward + backward time over the run's own time per scoring forward (details.gradient in the table).
The validation rule's forwards (top 4 and the baselines on the validation windows) are the same for
every configuration and are not counted.

Configurations (all with --seed S; the reference is `evolution-paper`, the paper's 64/40/16/16/32):
  evolution-paper  P64 T40 N1 16 N2 16, top 32 (1312 candidates)
  evolution        P32 T10 N1 8 N2 8, top 16 (176 candidates: the range study's reduction)
  racing           evolution with --race-margin 0.005
  gradient         the 4 seed tables, then 60 Adam steps from the best (a snapshot every 20, n̂ swept at the end)
  gradient-avg     gradient, each snapshot the mean λ of the 20 steps before it (--gradient-average)
  gradient-300     gradient with 300 steps (a snapshot every 50)
  both             P16 T2 N1 4 N2 4, top 8, then the same 60 steps from its best
  both-fifth       P24 T8 N1 8 N2 8, top 16, then 120 steps (a snapshot every 40): about a fifth of evolution-paper
  critical-dim     evolution in LongRoPE2's space (--critical-dim auto)
  racing-critical  evolution with both: racing and LongRoPE2's space
  racing-critical-fifth  the same at P40 T16 N1 10 N2 10, top 20 (360 candidates): near a fifth of
                   evolution-paper's forwards once racing has cut them
  racing-critical-long / -longer / -longest  the same with a smaller population and more generations:
                   P16 T24 N 8+8 top 8, P12 T32 N 6+6 top 6, P8 T48 N 4+4 top 4 (near a fifth, spent on generations)
  racing-critical-tight  P12 T40 N 6+6 top 6 with --race-margin 0.001
  critical-paper   evolution-paper in LongRoPE2's space (--critical-dim auto): that space's ceiling, not a cheap config
  racing-longer    racing-critical-longer in the paper's whole space (every pair searched)
  racing-longer-fifth  the same with 52 generations (racing cuts more there: near a fifth again)
  one-doc          one-doc-critical in the paper's whole space
  one-doc-critical  P64 T40 N1 16 N2 16, top 32 in LongRoPE2's space, one search document (a fifth of the forwards)
  one-doc-longer   one search document, P32 T80 N1 8 N2 8, top 16: one-doc's forwards spent on generations
  two-doc-racing-critical  P16 T44 N 7+7 top 8, racing and LongRoPE2's space, two search documents
  racing-below-critical-longer  racing-critical-longer with --critical-dim auto-4 (4 pairs below the
                   theoretical value; on books-bytes-3m-l64 pair 19 of 23, where the paper-settings winners jump)
  piecewise        evolution in the reference's dim_piece_mono space (--space piecewise)
  reference-ga     the reference search itself (microsoft/LongRoPE evolution/, dim_mono) at the `evolution`
                   budget, scored by our eval (bench/reference_ga.py; --reference: a checkout of it, e.g.
                   git clone https://github.com/microsoft/LongRoPE; measured at commit c9e56aa)

Runs are kept (and resumed) under --work, so a long benchmark goes on across sessions; every call
summarises all the runs found there. Intervals: across seeds (min..max), and for each configuration
against the reference and YaRN, the tool's hierarchical bootstrap (`longrope compare`, through
scripts/longrope_stats.py): each side's seeds, then the held-out books, then their windows. The table
also gives each configuration's worst seed against the reference's mean (the rule: the mean within 1 %,
the worst seed within 3 %).
A second table emulates "several cheap seeds, the best on validation kept" from the seeds each
configuration ran (every k-subset, k = 2 and 3, at k times the cost).
Usage: python3 bench/search_efficiency.py [--ratios 16,32] [--configs gradient,evolution] [--seeds 42,43,44]
                                          [--model DIR] [--work DIR] [--out R.json] [--threads N] [--dtype f32|bf16]
Forward-equivalents count forwards, not seconds, so a bf16 benchmark compares its configurations as an
f32 one does, at a fraction of the time on CPUs with AMX; its runs get their own --work (two dtypes never mix).
"""
import argparse
import itertools
import json
import math
import os
import shutil
import subprocess
import sys

from benchlib import REPO, default_longrope, fmt, machine_info, print_table, run_measured, write_json

sys.path.insert(0, os.path.join(REPO, "scripts"))
import longrope_stats  # noqa: E402  (the tool's one statistics module)

BOOKS = os.path.join(REPO, "..", "shared", "data", "books")
SEARCH_SET = ["--docs", "5", "--skip-tokens", "8192"]
HELDOUT_SET = ["--docs", "8", "--windows", "8", "--skip-tokens", "8192"]
PAPER_SCHEDULE = ["--population", "64", "--generations", "40", "--mutants", "16", "--crossovers", "16", "--parents", "32"]
LONGER_SCHEDULE = ["--population", "12", "--generations", "32", "--mutants", "6", "--crossovers", "6", "--parents", "6"]
EVOLUTION = ["--population", "32", "--generations", "10", "--mutants", "8", "--crossovers", "8", "--parents", "16"]
GRADIENT = ["--gradient-steps", "60", "--gradient-snapshot-every", "20"]
CONFIGS = {
    "evolution-paper": PAPER_SCHEDULE,
    "evolution": EVOLUTION,
    "racing": EVOLUTION + ["--race-margin", "0.005"],
    "gradient": ["--optimizer", "gradient"] + GRADIENT,
    "gradient-avg": ["--optimizer", "gradient", "--gradient-average"] + GRADIENT,
    "gradient-300": ["--optimizer", "gradient", "--gradient-steps", "300", "--gradient-snapshot-every", "50"],
    "both-fifth": ["--optimizer", "both", "--population", "24", "--generations", "8", "--mutants", "8", "--crossovers", "8",
                   "--parents", "16", "--gradient-steps", "120", "--gradient-snapshot-every", "40"],
    "both": ["--optimizer", "both", "--population", "16", "--generations", "2", "--mutants", "4", "--crossovers", "4",
             "--parents", "8"] + GRADIENT,
    "critical-dim": EVOLUTION + ["--critical-dim", "auto"],
    "racing-critical": EVOLUTION + ["--race-margin", "0.005", "--critical-dim", "auto"],
    "racing-critical-fifth": ["--population", "40", "--generations", "16", "--mutants", "10", "--crossovers", "10", "--parents", "20",
                              "--race-margin", "0.005", "--critical-dim", "auto"],
    # The paper-settings evolution's best keeps falling until its 40th generation: spend about a fifth
    # of its forwards on generations rather than on population (16 instead of 64, 24 generations).
    "racing-critical-long": ["--population", "16", "--generations", "24", "--mutants", "8", "--crossovers", "8", "--parents", "8",
                             "--race-margin", "0.005", "--critical-dim", "auto"],
    "racing-critical-longer": LONGER_SCHEDULE + ["--race-margin", "0.005", "--critical-dim", "auto"],
    "racing-critical-longest": ["--population", "8", "--generations", "48", "--mutants", "4", "--crossovers", "4", "--parents", "4",
                                "--race-margin", "0.005", "--critical-dim", "auto"],
    "racing-critical-tight": ["--population", "12", "--generations", "40", "--mutants", "6", "--crossovers", "6", "--parents", "6",
                              "--race-margin", "0.001", "--critical-dim", "auto"],
    # The paper-settings winners on books-bytes-3m-l64 jump from about 5 to s at pairs 20-23, just below
    # the theoretical critical dimension (23): search from 4 pairs below it, so the jump is in the space
    # (auto-4 resolves per model; the run fingerprint stores the pair, 19 there, so earlier runs resume).
    "racing-below-critical-longer": LONGER_SCHEDULE + ["--race-margin", "0.005", "--critical-dim", "auto-4"],
    # The paper's settings in LongRoPE2's space: what the smaller space can reach at the full budget.
    "critical-paper": PAPER_SCHEDULE + ["--critical-dim", "auto"],
    # The cheap schedules in the paper's whole space (every pair searched), where its evolution's winners live.
    "racing-longer": LONGER_SCHEDULE + ["--race-margin", "0.005"],
    "racing-longer-fifth": ["--population", "12", "--generations", "52", "--mutants", "6", "--crossovers", "6", "--parents", "6",
                            "--race-margin", "0.005"],
    # Fewer documents per candidate buy candidates: the paper's whole P64 T40 schedule on one search
    # document (1344 forwards, a fifth), or racing on two with more generations (at most 1264). Their
    # validation windows are later windows of those documents only (8 in all, as the rule's minimum).
    "one-doc": ["--docs", "1"] + PAPER_SCHEDULE,
    "one-doc-critical": ["--docs", "1"] + PAPER_SCHEDULE + ["--critical-dim", "auto"],
    # one-doc's best is still falling at generation 40 (and a seed that stalls early ends far off):
    # half the children per generation buy twice the generations (32 + 80·16 = 1312 forwards).
    "one-doc-longer": ["--docs", "1", "--population", "32", "--generations", "80", "--mutants", "8", "--crossovers", "8",
                       "--parents", "16"],
    "two-doc-racing-critical": ["--docs", "2", "--population", "16", "--generations", "44", "--mutants", "7", "--crossovers", "7",
                                "--parents", "8", "--race-margin", "0.005", "--critical-dim", "auto"],
    "piecewise": EVOLUTION + ["--space", "piecewise"],
    "reference-ga": EVOLUTION,  # run by bench/reference_ga.py, not by longrope search
}
REFERENCE = "evolution-paper"
# The rule for a cheap configuration, against the reference's mean held out: the mean within
# RULE_MEAN, the worst seed within RULE_WORST, at most RULE_COST of its forwards, over RULE_SEEDS seeds.
RULE_MEAN, RULE_WORST, RULE_COST, RULE_SEEDS = 0.01, 0.03, 0.2, 5
BEST_OF = (2, 3)  # seeds per pick in the best-of-seeds emulation (best_of_seeds)


def original_length(model):
    with open(os.path.join(model, "config.json")) as f:
        return json.load(f)["max_position_embeddings"]


def forward_options(args):
    """What every longrope search and eval of the benchmark shares: threads and dtype."""
    return ["--threads", str(args.threads), "--dtype", args.dtype]


def search_set(config):
    """The search documents: SEARCH_SET, with the configuration's own --docs where it has one."""
    if "--docs" not in CONFIGS[config]:
        return SEARCH_SET
    i = SEARCH_SET.index("--docs")
    return SEARCH_SET[:i] + SEARCH_SET[i + 2:]


def run_one(args, ratio, config, seed):
    """Searches (resuming) and scores the winner on held-out text; returns the run's record."""
    run = os.path.join(args.work, f"{ratio}x", f"{config}-s{seed}")
    length = ratio * original_length(args.model)
    target = os.path.join(run, f"{ratio}x-{length}")
    table_path = os.path.join(target, "table.json")
    if config == "reference-ga":
        table_path = os.path.join(run, "table.json")
        if not os.path.exists(table_path):
            if not os.path.isdir(os.path.join(args.reference, "evolution")):
                raise SystemExit(f"--reference {args.reference}: no microsoft/LongRoPE checkout there (git clone it)")
            print(f"[{ratio}x {config} seed {seed}] searching (the reference's GA)", flush=True)
            run_measured([sys.executable, os.path.join(REPO, "bench", "reference_ga.py"), "--reference", args.reference,
                          "--model", args.model, "--ratio", str(ratio), "--seed", str(seed), "--out", run,
                          "--longrope", args.longrope] + forward_options(args) + EVOLUTION +
                         (["--reference-commit", args.reference_commit] if args.reference_commit else [])).check()
    elif not os.path.exists(table_path):
        cmd = [args.longrope, "search", "--model", args.model, "--data", os.path.join(BOOKS, "valid"), "--target", f"{ratio}x",
               "--out", run, "--seed", str(seed)] + forward_options(args) + search_set(config) + CONFIGS[config]
        if os.path.isdir(run):
            cmd.append("--resume")
        print(f"[{ratio}x {config} seed {seed}] searching", flush=True)
        run_measured(cmd).check()
    heldout = os.path.join(run, "heldout.json")
    held = scored_once(args, heldout, f"[{ratio}x {config} seed {seed}] held out",
                       ["--data", os.path.join(BOOKS, "test"), "--length", str(length), "--method", f"table:{table_path}"] + HELDOUT_SET)
    scored_elsewhere = args.other_text and config in args.configs.split(",") + [REFERENCE]
    other = other_text_nll(args, run, length, f"table:{table_path}") if scored_elsewhere else None
    with open(table_path) as f:
        table = json.load(f)
    gradient = table.get("gradient")
    if gradient:  # runs before the key's rename count the same thing as "forward_equivalents"
        cost = gradient.get("search_forward_equivalents", gradient.get("forward_equivalents"))
        if cost is None:
            raise SystemExit(f"{table_path}: a gradient run without its cost in forward-equivalents")
    else:
        cost = table["document_forwards"]
    return {"ratio": ratio, "length": length, "config": config, "seed": seed, "forward_equivalents": cost,
            "evaluations": table["evaluations"], "search_seconds": table["wall_time_s"], "search_ppl": table["search_ppl"],
            "validation_ppl": table.get("validation_ppl"), "heldout_ppl": held["ppl"],
            "step_forward_equivalents": gradient.get("step_forward_equivalents") if gradient else None,
            "window_nll": {d["name"]: d["mean_nll"] for d in held["results"][0]["documents"]},
            "other_window_nll": other[f"table:{table_path}"] if other else None,
            "lambda": table["lambda"], "start_tokens": table["start_tokens"],
            "search_documents": table.get("settings", {}).get("documents")}


def other_text_nll(args, directory, length, methods):
    """Per method, each window's NLL on --other-text (consecutive windows from its start), journaled in
    `directory` as other-NAME.json."""
    name = os.path.splitext(os.path.basename(args.other_text))[0]
    held = scored_once(args, os.path.join(directory, f"other-{name}.json"), f"[{directory}] on {name}",
                       ["--data", args.other_text, "--docs", "1", "--windows", str(args.other_windows), "--length", str(length),
                        "--method", methods])
    return {r["method"]: {d["name"]: d["mean_nll"] for d in r["documents"]} for r in held["results"]}


def scored_once(args, path, label, eval_args):
    """`longrope eval` into `path` unless it is there (journaled, renamed into place when whole); its JSON."""
    if not os.path.exists(path):
        print(label, flush=True)
        run_measured([args.longrope, "eval", "--model", args.model] + eval_args + ["--json", path + ".tmp", "--resume"] +
                     forward_options(args)).check()
        os.replace(path + ".tmp", path)
    with open(path) as f:
        held = json.load(f)
    check_dtype(args, path, held)
    return held


def check_dtype(args, path, held):
    """Runs of one --work directory share a dtype: a bf16 forward is not an f32 one."""
    stored = {"float32": "f32", "bfloat16": "bf16"}.get(held.get("dtype"), held.get("dtype"))
    if stored != args.dtype:
        raise SystemExit(f"{path}: dtype {held.get('dtype')} where --dtype is {args.dtype} (one --work per dtype)")


def baselines(args, ratio):
    """YaRN and NTK on the same held-out windows, once per ratio."""
    length = ratio * original_length(args.model)
    path = os.path.join(args.work, f"{ratio}x", "baselines-heldout.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    held = scored_once(args, path, f"[{ratio}x] NTK and YaRN held out",
                       ["--data", os.path.join(BOOKS, "test"), "--length", str(length), "--method", "ntk,yarn"] + HELDOUT_SET)
    results = held["results"]
    return {r["method"]: {"ppl": math.exp(sum(d["mean_nll"] for d in r["documents"]) / len(r["documents"])),
                          "window_nll": {d["name"]: d["mean_nll"] for d in r["documents"]}} for r in results}


def seed_runs(runs, key, rename=None):
    """Each run's (window, NLL) in one window order: a side of `longrope compare`, whose runs are the seeds."""
    windows = sorted(runs[0][key])
    return [[((rename or {}).get(w, w), r[key][w]) for w in windows] for r in runs]


def versus(a_runs, b_runs, key="window_nll", rename=None):
    """The change from B to A with the tool's one bootstrap (scripts/longrope_stats.py: `longrope compare`):
    seeds of each side first, then books (or `rename`'s groups), then their windows."""
    c = longrope_stats.compare(seed_runs(a_runs, key, rename), seed_runs(b_runs, key, rename), group_by="book")
    return {"change": c["change"], "low": c["low"], "high": c["high"], "ppl": c["a"]["ppl"], "worst_seed_ppl": c["a"]["worst_run_ppl"],
            "reference_ppl": c["b"]["ppl"]}


def summarise(records, base):
    """Per ratio and configuration: seeds, cost, held-out ppl (over its seeds' windows, and its worst seed) and the
    change against the reference and YaRN, with intervals that resample seeds, books and windows."""
    out = []
    by_key = {}
    for r in records:
        by_key.setdefault((r["ratio"], r["config"]), []).append(r)
    for (ratio, config), runs in sorted(by_key.items()):
        row = {"ratio": ratio, "config": config, "seeds": sorted(r["seed"] for r in runs),
               "forward_equivalents": sum(r["forward_equivalents"] for r in runs) / len(runs),
               "search_seconds": sum(r["search_seconds"] for r in runs) / len(runs),
               "heldout_ppl_mean": math.exp(sum(sum(r["window_nll"].values()) / len(r["window_nll"]) for r in runs) / len(runs)),
               "heldout_ppl_min": min(r["heldout_ppl"] for r in runs), "heldout_ppl_max": max(r["heldout_ppl"] for r in runs)}
        reference = by_key.get((ratio, REFERENCE))
        if reference and config != REFERENCE:
            row["vs_reference"] = versus(runs, reference)
            # The rule: the worst seed against the reference's mean (over its seeds and windows).
            row["worst_seed_vs_reference_mean"] = row["heldout_ppl_max"] / row["vs_reference"]["reference_ppl"] - 1
            row["cost_fraction_of_reference"] = row["forward_equivalents"] / (
                sum(r["forward_equivalents"] for r in reference) / len(reference))
        yarn = base[ratio].get("yarn")
        if yarn:
            row["vs_yarn"] = versus(runs, [{"window_nll": yarn["window_nll"]}])
        if reference and config != REFERENCE and all(r.get("other_window_nll") for r in runs + reference):
            # The other text is one document: resample blocks of 4 consecutive windows (neighbours move together).
            in_order = sorted(runs[0]["other_window_nll"], key=lambda w: int(w.rpartition("@")[2]))  # names end in @byte-offset
            blocks = {w: f"block{i // 4}@{w.rpartition('@')[2]}" for i, w in enumerate(in_order)}
            row["vs_reference_other_text"] = versus(runs, reference, "other_window_nll", blocks)
        out.append(row)
    return out


def rule_misses(cost, mean, worst):
    """The parts of the rule that a cost (fraction of the reference's forwards), a mean and a worst seed
    (changes against the reference's mean) miss."""
    return [name for name, bad in ((f"cost > {RULE_COST:g}", cost > RULE_COST + 1e-9),
                                   (f"mean > +{100 * RULE_MEAN:g} %", mean > RULE_MEAN),
                                   (f"worst > +{100 * RULE_WORST:g} %", worst > RULE_WORST)) if bad]


def rule_verdict(row):
    """Which parts of the rule a configuration's row misses ("meets" when none; "" for the reference)."""
    if "vs_reference" not in row:
        return ""
    missed = rule_misses(row["cost_fraction_of_reference"], row["vs_reference"]["change"], row["worst_seed_vs_reference_mean"])
    if len(row["seeds"]) < RULE_SEEDS:
        missed.append(f"{len(row['seeds'])} < {RULE_SEEDS} seeds")
    return "meets" if not missed else "; ".join(missed)


def best_of_seeds(records, summary):
    """The issue's "several cheap seeds, picked by validation", emulated exactly from the seeds each
    configuration ran: of every k of its seeds the one with the lowest validation perplexity wins, at k
    times the cost. Validation windows are later windows of the search documents, so seeds compare only
    where all searched the same documents. Per configuration with the rule's seeds and k in BEST_OF: the
    mean over all k-subsets of the winner's held-out perplexity against the reference's mean, and the
    worst subset's."""
    out = []
    for row in summary:
        if "vs_reference" not in row or len(row["seeds"]) < RULE_SEEDS:
            continue
        runs = [r for r in records if r["ratio"] == row["ratio"] and r["config"] == row["config"]]
        if any(r.get("validation_ppl") is None for r in runs) or len({r.get("search_documents") for r in runs}) != 1:
            continue  # no validation, or seeds that validated on different windows
        reference_ppl = row["vs_reference"]["reference_ppl"]
        for k in BEST_OF:
            winners = [min(subset, key=lambda r: r["validation_ppl"])["heldout_ppl"] for subset in itertools.combinations(runs, k)]
            best = {"ratio": row["ratio"], "config": row["config"], "k": k, "subsets": len(winners),
                    "cost_fraction_of_reference": k * row["cost_fraction_of_reference"],
                    "mean_vs_reference_mean": sum(winners) / len(winners) / reference_ppl - 1,
                    "worst_vs_reference_mean": max(winners) / reference_ppl - 1}
            missed = rule_misses(best["cost_fraction_of_reference"], best["mean_vs_reference_mean"], best["worst_vs_reference_mean"])
            best["rule"] = "meets" if not missed else "; ".join(missed)
            out.append(best)
    return out


def interval_text(change):
    """A bootstrap result as '+1.23 % [+0.45, +2.01]' ('' when there is none)."""
    return f"{100 * change['change']:+.2f} % [{100 * change['low']:+.2f}, {100 * change['high']:+.2f}]" if change else ""


def plot(summary, records, base, path):
    """Held-out perplexity against forward-equivalents, one point per run, a panel per ratio (gnuplot)."""
    if not shutil.which("gnuplot"):
        print("gnuplot not found: no plot")
        return
    ratios = sorted({r["ratio"] for r in records})
    configs = sorted({r["config"] for r in records})  # one point type per configuration in every panel
    data, blocks = path + ".dat", {}
    with open(data, "w") as f:
        for ratio in ratios:
            for config in configs:
                runs = [r for r in records if r["ratio"] == ratio and r["config"] == config]
                if runs:  # gnuplot's `index` counts only blocks that hold points
                    blocks[(ratio, config)] = len(blocks)
                    f.write(f"# {ratio}x {config}\n")
                    for r in runs:
                        f.write(f"{r['forward_equivalents']:.1f} {r['heldout_ppl']:.5f}\n")
                    f.write("\n\n")
    # The key goes below the panels: two dozen configurations beside them would squeeze the first flat.
    script = [f"set terminal pngcairo size {600 * len(ratios)},{480 + 14 * math.ceil(len({r['config'] for r in records}) / 3)}",
              f"set output '{path}'",
              f"set multiplot layout 1,{len(ratios)}", "set logscale x", "set xlabel 'forward-equivalents'",
              "set ylabel 'held-out perplexity'", "set key below font ',8' maxcols 3"]
    for ratio in ratios:
        plots = [f"'{data}' index {blocks[(ratio, c)]} with points pt {j + 4} lc {j + 1} ps 1.3 title '{c}'"
                 for j, c in enumerate(configs) if (ratio, c) in blocks]
        yarn = base[ratio].get("yarn", {}).get("ppl")
        title, points = f"{ratio}x", [r["heldout_ppl"] for r in records if r["ratio"] == ratio]
        if yarn:
            plots.append(f"{yarn} with lines dt 2 lc rgb 'gray' title 'YaRN'")
            # Runs far worse than YaRN would squeeze the rest into a sliver: clip them and name them.
            top = 1.05 * yarn
            off = sorted({(r["config"], r["heldout_ppl"]) for r in records if r["ratio"] == ratio and r["heldout_ppl"] > top})
            script.append(f"set yrange [{0.98 * min(points + [yarn]):.3f}:{top:.3f}]")
            if off:
                title += "\\noff scale: " + ", ".join(f"{c} {v:.2f}" for c, v in off)
        else:
            script.append("set autoscale y")
        script.append("unset arrow")
        ref = [r["forward_equivalents"] for r in records if r["ratio"] == ratio and r["config"] == REFERENCE]
        if ref:  # the budget: a fifth of the paper-settings evolution's forwards
            fifth = sum(ref) / len(ref) / 5
            script.append(f"set arrow from {fifth:.1f}, graph 0 to {fifth:.1f}, graph 1 nohead dt 3 lc rgb 'gray'")
            title += "\\ndotted: a fifth of evolution-paper's forwards"
        script += [f'set title "{title}" font ",9"', "plot " + ", ".join(plots)]
    script.append("unset multiplot")
    with open(path + ".gp", "w") as f:
        f.write("\n".join(script) + "\n")
    subprocess.run(["gnuplot", path + ".gp"], check=True)
    print(f"wrote {path}")


def worst_seed_front(rows):
    """The Pareto front of worst seed against cost among one ratio's rows: cheapest first (ties: the better
    worst seed first), a row is on it when its worst seed beats every cheaper one's. Only rows with the
    rule's seeds count (one seed's "worst" is a single draw), or all while none has them yet."""
    here = sorted(rows, key=lambda s: (s["cost_fraction_of_reference"], s["worst_seed_vs_reference_mean"]))
    front, best = [], math.inf
    for s in [s for s in here if len(s["seeds"]) >= RULE_SEEDS] or here:
        if s["worst_seed_vs_reference_mean"] < best:
            best = s["worst_seed_vs_reference_mean"]
            front.append(s)
    return front


def plot_frontier(summary, best_of, path):
    """The rule's frontier: each configuration's worst seed and mean against the reference's mean, over its
    cost as a fraction of the reference's forwards, a panel per ratio, with the rule's bounds drawn in.
    The worst seed's Pareto front (worst_seed_front) is drawn as a step line; the best-of-seeds
    emulation (best_of_seeds) as its own points at k times the cost."""
    if not shutil.which("gnuplot"):
        print("gnuplot not found: no frontier plot")
        return
    rows = [s for s in summary if "vs_reference" in s]
    ratios = sorted({s["ratio"] for s in rows})
    if not ratios:
        return
    data = path + ".dat"
    with open(data, "w") as f:
        for ratio in ratios:
            here = sorted((s for s in rows if s["ratio"] == ratio), key=lambda s: s["cost_fraction_of_reference"])
            front = worst_seed_front(here)
            f.write(f"# {ratio}x: cost worst% mean% low% high% label\n")
            for s in here:
                c = s["vs_reference"]
                # Labels only where the rule is decided (the front, and worst seeds near the bound): the rest would overlap.
                near = s in front or s["worst_seed_vs_reference_mean"] < RULE_WORST + 0.005
                label = f"{s['config']} ({len(s['seeds'])})" if near else ""
                f.write(f"{s['cost_fraction_of_reference']:.4f} {100 * s['worst_seed_vs_reference_mean']:.3f} {100 * c['change']:.3f} "
                        f"{100 * c['low']:.3f} {100 * c['high']:.3f} \"{label}\"\n")
            f.write("\n\n# front\n")
            for s in front:
                f.write(f"{s['cost_fraction_of_reference']:.4f} {100 * s['worst_seed_vs_reference_mean']:.3f}\n")
            f.write(f"{1.3:.4f} {100 * front[-1]['worst_seed_vs_reference_mean']:.3f}\n\n\n")
            f.write("# best of k seeds: cost worst% mean% label\n")
            for b in (b for b in best_of if b["ratio"] == ratio):
                f.write(f"{b['cost_fraction_of_reference']:.4f} {100 * b['worst_vs_reference_mean']:.3f} "
                        f"{100 * b['mean_vs_reference_mean']:.3f} \"{b['config']} x{b['k']}\"\n")
            f.write("\n\n")
    script = [f"set terminal pngcairo size {600 * len(ratios)},520", f"set output '{path}'",
              f"set multiplot layout 1,{len(ratios)}", "set logscale x", "set xrange [0.02:1.3]",
              "set xlabel 'cost (fraction of the reference forwards)'",
              "set ylabel 'held out, against the reference mean (%)'", "set key bottom left font ',8'", "set grid"]
    for i, ratio in enumerate(ratios):
        a, b, k = 3 * i, 3 * i + 1, 3 * i + 2
        here = [s for s in rows if s["ratio"] == ratio]
        worst = [100 * s["worst_seed_vs_reference_mean"] for s in here]
        lows = [100 * s["vs_reference"]["low"] for s in here]
        front_of = (f"configurations with {RULE_SEEDS}+ seeds" if any(len(s["seeds"]) >= RULE_SEEDS for s in here)
                    else f"all (none has {RULE_SEEDS} seeds yet)")
        # A far-off configuration would squeeze the rest flat: clip at 3x the rule's worst bound (or the
        # 4th-worst point) and name what is off scale.
        top = max(3 * 100 * RULE_WORST, sorted(worst)[-min(4, len(worst))] + 1)
        off = [f"{s['config']} {100 * s['worst_seed_vs_reference_mean']:+.0f} %" for s in here
               if 100 * s["worst_seed_vs_reference_mean"] > top]
        title = (f"{ratio}x: the rule is cost < {RULE_COST:g}, worst seed < +{100 * RULE_WORST:g} %, mean < +{100 * RULE_MEAN:g} %"
                 f"\\nlabels: configuration (seeds), on the front or with a worst seed under +{100 * RULE_WORST + 0.5:g} %"
                 f"\\nfront over {front_of}")
        if off:
            title += "\\noff scale: " + ", ".join(off)
        script += [f'set title "{title}" font ",9"', f"set yrange [{min(worst + lows + [0]) - 1:.1f}:{top:.1f}]",
                   "unset arrow",
                   f"set arrow from first {RULE_COST}, graph 0 to first {RULE_COST}, graph 1 nohead dt 2 lc rgb '#222222'",
                   f"set arrow from graph 0, first {100 * RULE_WORST} to graph 1, first {100 * RULE_WORST} nohead dt 3 lc rgb '#cc3311'",
                   f"set arrow from graph 0, first {100 * RULE_MEAN} to graph 1, first {100 * RULE_MEAN} nohead dt 3 lc rgb '#4477aa'",
                   "plot " + ", ".join([
                       f"'{data}' index {a} using 1:3:4:5 with yerrorbars pt 7 ps 0.6 lc rgb '#4477aa' title 'mean (interval: seeds, books, windows)'",
                       f"'{data}' index {a} using 1:2 with points pt 2 ps 1.2 lc rgb '#cc3311' title 'worst seed'",
                       f"'{data}' index {b} using 1:2 with steps lw 1.5 lc rgb '#cc3311' dt 2 title 'front of the worst seed'",
                       f"'{data}' index {a} using 1:2:6 with labels left offset 0.6,0 font ',7' notitle"] +
                      ([f"'{data}' index {k} using 1:2 with points pt 6 ps 1.2 lc rgb '#ee7733' title 'best of k seeds on validation: worst subset'",
                        f"'{data}' index {k} using 1:3 with points pt 7 ps 0.5 lc rgb '#ee7733' title 'best of k seeds: mean'",
                        f"'{data}' index {k} using 1:2:4 with labels left offset 0.6,0 font ',6' tc rgb '#ee7733' notitle"]
                       if any(b["ratio"] == ratio for b in best_of) else []))]
    script.append("unset multiplot")
    with open(path + ".gp", "w") as f:
        f.write("\n".join(script) + "\n")
    subprocess.run(["gnuplot", path + ".gp"], check=True)
    print(f"wrote {path}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--longrope", default=default_longrope())
    p.add_argument("--model", default=os.path.join(REPO, "models", "shipped", "books-bytes-3m-l64"))
    p.add_argument("--ratios", default="16,32")
    p.add_argument("--configs", default=",".join(CONFIGS))
    p.add_argument("--seeds", default="42,43,44")
    p.add_argument("--work", default=os.path.join(REPO, "results", "search-efficiency", "runs"))
    p.add_argument("--out", default=os.path.join(REPO, "results", "search-efficiency", "search_efficiency.json"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--dtype", default="f32", choices=["f32", "bf16"],
                   help="of every search and held-out forward (bf16: ~2.4x faster where the CPU has AMX)")
    p.add_argument("--reference", default=os.path.expanduser("~/.cache/longrope/reference/LongRoPE"),
                   help="a microsoft/LongRoPE checkout, for the reference-ga configuration")
    p.add_argument("--reference-commit", default="c9e56aa54007c328399677232a489feec446e4b8",
                   help="its commit, recorded in the table (a git archive copy has no .git to ask)")
    p.add_argument("--other-text", help="also score every run's table on this file (consecutive windows from its start), "
                   "e.g. ../shared/data/tinyshakespeare.txt: text of another kind than the books searched on")
    p.add_argument("--other-windows", type=int, default=64, help="windows of --other-text")
    p.add_argument("--summary-only", action="store_true", help="summarise the runs under --work without running any")
    args = p.parse_args()
    ratios = [int(r) for r in args.ratios.split(",")]
    for c in args.configs.split(","):
        if c not in CONFIGS:
            p.error(f"--configs: unknown configuration {c} (known: {', '.join(CONFIGS)})")
    if not args.summary_only:
        for ratio in ratios:
            for config in args.configs.split(","):
                for seed in [int(s) for s in args.seeds.split(",")]:
                    run_one(args, ratio, config, seed)
    # Every finished run under --work, at every ratio, whatever this call ran (a ratio whose held-out
    # baselines were never scored is left out rather than scored here).
    on_disk = [int(d[:-1]) for d in os.listdir(args.work) if d[:-1].isdigit() and d.endswith("x")
               and os.path.exists(os.path.join(args.work, d, "baselines-heldout.json"))] if os.path.isdir(args.work) else []
    ratios = sorted(set([] if args.summary_only else ratios) | set(on_disk))
    records = []
    for ratio in ratios:
        ratio_dir = os.path.join(args.work, f"{ratio}x")
        for name in sorted(os.listdir(ratio_dir)) if os.path.isdir(ratio_dir) else []:
            config, _, seed = name.rpartition("-s")
            if config in CONFIGS and os.path.exists(os.path.join(ratio_dir, name, "heldout.json")):
                records.append(run_one(args, ratio, config, int(seed)))
    base = {ratio: baselines(args, ratio) for ratio in ratios}
    summary = summarise(records, base)
    rows = []
    for s in summary:
        ref, yarn = s.get("vs_reference"), s.get("vs_yarn")
        worst = s.get("worst_seed_vs_reference_mean")
        s["rule"] = rule_verdict(s)
        rows.append([f"{s['ratio']}x", s["config"], len(s["seeds"]), fmt(s["forward_equivalents"], ".0f"),
                     fmt(s.get("cost_fraction_of_reference"), ".3f"), fmt(s["search_seconds"], ".0f"), fmt(s["heldout_ppl_mean"], ".4f"),
                     f"{s['heldout_ppl_min']:.4f}..{s['heldout_ppl_max']:.4f}", interval_text(ref),
                     "" if worst is None else f"{100 * worst:+.2f} %", s["rule"], interval_text(yarn)])
    headers = ["ratio", "config", "seeds", "fwd-eq", "of ref", "search s", "held-out ppl", "seed range", "vs evolution-paper",
               "worst seed vs ref mean", "rule", "vs YaRN"]
    if args.other_text:
        headers.append(f"vs evolution-paper on {os.path.basename(args.other_text)}")
        for row, s in zip(rows, summary):
            row.append(interval_text(s.get("vs_reference_other_text")))
    print_table(headers, rows)
    best_of = best_of_seeds(records, summary)
    best_headers = ["ratio", "config", "best of k seeds", "k-subsets", "of ref", "mean winner vs ref mean",
                    "worst subset vs ref mean", "rule"]
    best_rows = [[f"{b['ratio']}x", b["config"], b["k"], b["subsets"], f"{b['cost_fraction_of_reference']:.3f}",
                  f"{100 * b['mean_vs_reference_mean']:+.2f} %", f"{100 * b['worst_vs_reference_mean']:+.2f} %", b["rule"]]
                 for b in best_of]
    best_title = ("Several seeds, the one with the best validation perplexity kept: every k-subset of a configuration's "
                  "seeds, emulated from its runs, at k times its cost.")
    if best_rows:
        print("\n" + best_title)
        print_table(best_headers, best_rows)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    # The same tables in Markdown, for results/ (each row's numbers come from the JSON below).
    with open(os.path.splitext(args.out)[0] + ".md", "w") as f:
        for title, head, body in (("", headers, rows), (best_title, best_headers, best_rows)):
            if body:
                f.write(f"\n{title}\n\n" if title else "")
                f.write("| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n")
                for row in body:
                    f.write("| " + " | ".join("" if v is None else str(v) for v in row) + " |\n")
    for r in records:
        r.pop("window_nll")
        r.pop("other_window_nll")
    write_json(args.out, {"machine": machine_info(), "model": os.path.relpath(args.model, REPO), "dtype": args.dtype, "configs": CONFIGS,
                          "search_set": SEARCH_SET, "heldout_set": HELDOUT_SET,
                          "baselines": {str(k): {m: v["ppl"] for m, v in b.items()} for k, b in base.items()},
                          "summary": summary, "best_of_seeds": best_of, "runs": records})
    plot(summary, records, base, os.path.splitext(args.out)[0] + ".png")
    plot_frontier(summary, best_of, os.path.splitext(args.out)[0] + "_frontier.png")


if __name__ == "__main__":
    main()
