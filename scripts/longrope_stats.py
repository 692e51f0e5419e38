"""The tool's one statistics module, for scripts: every interval a script or benchmark reports comes
from `longrope compare` (util/paired_bootstrap.h), never from a second implementation here.

    from longrope_stats import compare, interval_text
    c = compare(a_runs, b_runs, group_by="book")   # runs: [[(window_name, mean_nll), ...], ...]
    print(interval_text(c))                        # "-1.20 % [-1.52, -0.91]"

A side is a list of runs (search seeds; a baseline has one), each run the (name, mean NLL) of every
window in the same order. Windows are named PATH@WINDOW, so `group_by="book"` resamples books, then
their windows; with several runs on a side, runs are resampled first.
"""
import json
import os
import shutil
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def longrope_binary():
    """$LONGROPE, else build-torch2/longrope, else build/longrope."""
    for path in (os.environ.get("LONGROPE"), os.path.join(ROOT, "build-torch2", "longrope"), os.path.join(ROOT, "build", "longrope")):
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise SystemExit("longrope_stats: no longrope binary (set LONGROPE, or build with scripts/build.sh)")


def _write_run(directory, name, run):
    path = os.path.join(directory, name + ".json")
    docs = [{"name": w, "mean_nll": float(x)} for w, x in run]
    with open(path, "w") as f:
        json.dump({"results": [{"method": name, "documents": docs}]}, f)
    return path


def compare_files(a, b, group_by="book", resamples=2000):
    """`longrope compare A B`: A and B are score files as the tool names them (FILE[:METHOD[@LENGTHS]], several
    comma-separated for a side's runs). Returns {change, low, high, windows, books, a: {ppl, worst_run_ppl, runs}, b, ...}."""
    directory = tempfile.mkdtemp(prefix="longrope-stats-")
    try:
        out = os.path.join(directory, "compare.json")
        proc = subprocess.run([longrope_binary(), "compare", a, b, "--group-by", group_by, "--resamples", str(resamples), "--json", out],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"longrope compare {a} {b}: {proc.stderr.strip()}")
        with open(out) as f:
            return json.load(f)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def compare(a_runs, b_runs, group_by="book", resamples=2000):
    """compare_files on scores held in Python: each side a list of runs of (window_name, mean_nll)."""
    directory = tempfile.mkdtemp(prefix="longrope-stats-")
    try:
        a = ",".join(_write_run(directory, f"a{i}", r) for i, r in enumerate(a_runs))
        b = ",".join(_write_run(directory, f"b{i}", r) for i, r in enumerate(b_runs))
        return compare_files(a, b, group_by, resamples)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def interval_text(c):
    """The change and its interval in percent, as the tool prints it: "-1.20 % [-1.52, -0.91]"."""
    return f"{100 * c['change']:+.2f} % [{100 * c['low']:+.2f}, {100 * c['high']:+.2f}]"


def eval_runs(path, method=None):
    """[(window_name, mean_nll)] of one method in an eval --json file (the first result without `method`)."""
    with open(path) as f:
        d = json.load(f)
    for r in d["results"]:
        if method is None or r["method"] == method:
            return [(doc["name"], doc["mean_nll"]) for doc in r["documents"]]
    raise SystemExit(f"{path}: no result for {method}")
