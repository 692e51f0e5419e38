"""Peak memory and time of a gradient step on λ, with and without activation checkpointing, beside a
plain forward at the same length: does the backward fit where the forward does?

For each length: `longrope eval` of YaRN on one window (the forward's peak), then `longrope search
--optimizer gradient --gradient-steps 2` on that window with and without --gradient-checkpoint (one
window, no validation, n̂ = 0: the seeds, two steps, one snapshot). Peak memory is the process's peak
resident set (os.wait4): CPU runs only. A step's time is the mean of the two steps in the table's
details.gradient (the first included: no warm-up), so read it as a rough figure.
Usage: python3 bench/gradient_memory.py [--model DIR] [--lengths 4096,16384] [--threads 2] [--out R.json]
"""
import argparse
import json
import os
import tempfile

from benchlib import REPO, default_longrope, default_out, machine_info, print_table, run_measured, write_json

BOOKS_VALID = os.path.join(REPO, "..", "shared", "data", "books", "valid")


def gradient_step(args, length, checkpoint):
    with tempfile.TemporaryDirectory() as work:
        cmd = [args.longrope, "search", "--model", args.model, "--data", BOOKS_VALID, "--target", str(length), "--out", work + "/run",
               "--docs", "1", "--skip-tokens", "8192", "--validation", "none", "--search-start-tokens", "false",
               "--optimizer", "gradient", "--gradient-steps", "2", "--gradient-snapshot-every", "2", "--threads", str(args.threads)]
        m = run_measured(cmd + (["--gradient-checkpoint"] if checkpoint else [])).check()
        target = next(d for d in os.listdir(work + "/run") if os.path.isdir(os.path.join(work, "run", d)))
        with open(os.path.join(work, "run", target, "table.json")) as f:
            g = json.load(f)["gradient"]
    return {"peak_rss_bytes": m.peak_rss_bytes, "step_seconds": g["steps_seconds"] / g["steps"],
            "step_forward_equivalents": g.get("step_forward_equivalents")}


def forward(args, length):
    m = run_measured([args.longrope, "eval", "--model", args.model, "--data", BOOKS_VALID, "--docs", "1", "--skip-tokens", "8192",
                      "--length", str(length), "--method", "yarn", "--threads", str(args.threads)]).check()
    return {"peak_rss_bytes": m.peak_rss_bytes}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--longrope", default=default_longrope())
    p.add_argument("--model", default=os.path.join(REPO, "models", "shipped", "books-bytes-3m-l64"))
    p.add_argument("--lengths", default="4096,16384")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=default_out("gradient_memory"))
    args = p.parse_args()
    rows, results = [], []
    for length in [int(x) for x in args.lengths.split(",")]:
        r = {"length": length, "forward": forward(args, length), "plain": gradient_step(args, length, False),
             "checkpointed": gradient_step(args, length, True)}
        results.append(r)
        mib = lambda b: f"{b / 2**20:.0f}"
        rows.append([length, mib(r["forward"]["peak_rss_bytes"]), mib(r["plain"]["peak_rss_bytes"]),
                     mib(r["checkpointed"]["peak_rss_bytes"]), f"{r['plain']['step_seconds']:.2f}",
                     f"{r['checkpointed']['step_seconds']:.2f}"])
    print_table(["length", "forward MiB", "step MiB", "checkpointed step MiB", "step s", "checkpointed step s"], rows)
    write_json(args.out, {"machine": machine_info(), "model": os.path.relpath(args.model, REPO), "results": results})


if __name__ == "__main__":
    main()
