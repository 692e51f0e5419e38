"""Search throughput: evaluations per hour and wall time of one fixed search, with each speed feature
of `longrope search` on and off.

The search: the shipped byte-level model, 8x (256 -> 2048 tokens), 5 search documents, population 16,
4 generations of 4 mutants + 4 crossovers from the best 8 (reduced from the paper's 64 / 40 / 16 + 16 /
32 so that one configuration takes about a minute on 2 cores). Configurations:
  plain        one candidate per forward, every candidate on every document (the default);
  batch-K      --batch-candidates K: K candidates as K rows of one forward;
  race-M       --race-margin M: a child stops after any document but the last once its running mean NLL
               exceeds that of the worst parent on the same documents by more than M nats.
Racing runs against plain over several seeds: per seed, how many document forwards it saved and whether
the winning table (λ and n̂) is the same. Batching runs on the first seed (it changes nothing but
rounding). Each configuration is its own `longrope search` process; its time is the search loop's own
wall time (table.json: wall_time_s; model load and baselines excluded), and its peak RSS that process's.
Usage: python3 bench/search_throughput.py [--seeds 1,2,3] [--margins 0.02,0.1] [--batches 2,4] [--out R.json]
"""
import argparse
import json
import os
import shutil
import tempfile

from benchlib import SHIPPED_MODEL, default_longrope, default_out, fmt, machine_info, print_table, run_measured, write_json

LICENSES = "/usr/share/common-licenses"
# Five long licences every Debian/Ubuntu machine has (the demo's search set): each > 2048 bytes.
DOCUMENTS = ("GPL-3", "LGPL-2.1", "MPL-1.1", "GFDL-1.3", "GPL-2")
SEARCH = {"population": 16, "generations": 4, "mutants": 4, "crossovers": 4, "parents": 8}


def search_args(args, overrides=None):
    out = ["--target", "8x", "--docs", str(args.docs), "--threads", str(args.threads)]
    for key, value in {**SEARCH, **(overrides or {})}.items():
        out += [f"--{key}", str(value)]
    return out


def run_search(args, data, seed, extra, overrides=None):
    with tempfile.TemporaryDirectory() as work:
        run = os.path.join(work, "run")
        cmd = [args.longrope, "search", "--model", args.model, "--data", data, "--out", run, "--seed", seed,
               "--dtype", args.dtype] + search_args(args, overrides) + extra
        m = run_measured(cmd).check()
        target = next(d for d in os.listdir(run) if os.path.isdir(os.path.join(run, d)))
        with open(os.path.join(run, target, "table.json")) as f:
            table = json.load(f)
    d = table  # the search details sit at the top level of table.json
    seconds = d["wall_time_s"]
    return {"seed": seed, "options": extra, "evaluations": d["evaluations"], "document_forwards": d["document_forwards"],
            "raced_out": d["raced_out"], "search_seconds": seconds, "process_wall_seconds": m.wall_seconds,
            "evaluations_per_hour": 3600.0 * d["evaluations"] / seconds,
            "document_forwards_per_hour": 3600.0 * d["document_forwards"] / seconds, "peak_rss_bytes": m.peak_rss_bytes,
            "winner": {"lambda": table["lambda"], "start_tokens": table["start_tokens"], "search_ppl": d["search_ppl"]}}


def compare(result):
    """Adds to each run its comparison with `plain` of the same seed, and a per-configuration summary;
    returns the printable rows."""
    plain = {r["seed"]: r for r in result["runs"] if r["config"] == "plain"}
    rows = []
    for r in result["runs"]:
        p = plain[r["seed"]]
        same = r["winner"]["lambda"] == p["winner"]["lambda"] and r["winner"]["start_tokens"] == p["winner"]["start_tokens"]
        r["vs_plain"] = {"forwards_saved_percent": 100.0 * (1 - r["document_forwards"] / p["document_forwards"]),
                         "speedup": p["search_seconds"] / r["search_seconds"], "same_winner": same,
                         "winner_ppl_ratio": r["winner"]["search_ppl"] / p["winner"]["search_ppl"]}
        rows.append([r["config"], r["seed"], r["evaluations"], r["document_forwards"], r["raced_out"],
                     fmt(r["search_seconds"], ".1f"), fmt(r["evaluations_per_hour"], ".0f"),
                     fmt(r["vs_plain"]["forwards_saved_percent"], ".1f"), fmt(r["vs_plain"]["speedup"], ".2f"),
                     "yes" if same else "no", fmt(r["winner"]["search_ppl"], ".4f"),
                     fmt(r["peak_rss_bytes"] / 2**20, ".0f")])
    summary = {}
    for name in sorted({r["config"] for r in result["runs"]}):
        runs = [r for r in result["runs"] if r["config"] == name]
        summary[name] = {"seeds": len(runs),
                         "mean_forwards_saved_percent": sum(r["vs_plain"]["forwards_saved_percent"] for r in runs) / len(runs),
                         "mean_speedup": sum(r["vs_plain"]["speedup"] for r in runs) / len(runs),
                         "same_winner": sum(r["vs_plain"]["same_winner"] for r in runs),
                         "max_winner_ppl_ratio": max(r["vs_plain"]["winner_ppl_ratio"] for r in runs)}
    result["summary"] = summary
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--margins", default="0.02,0.1", help="racing margins in nats")
    parser.add_argument("--batches", default="2,4", help="--batch-candidates values")
    parser.add_argument("--docs", type=int, default=5)
    parser.add_argument("--data", default=None, help=f"directory of search documents (default: {len(DOCUMENTS)} licences "
                                                     f"from {LICENSES})")
    parser.add_argument("--model", default=SHIPPED_MODEL)
    parser.add_argument("--dtype", default="f32", choices=("f32", "bf16"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--longrope", default=None, help="our binary (default build-torch2/longrope, else build/longrope)")
    parser.add_argument("--out", default=None, help="JSON output (default bench/out/search_throughput-DATE.json)")
    args = parser.parse_args()
    args.longrope = os.path.abspath(args.longrope or default_longrope())
    seeds = [s.strip() for s in args.seeds.split(",") if s.strip()]
    margins = [float(m) for m in args.margins.split(",") if m.strip()]
    batches = [int(b) for b in args.batches.split(",") if b.strip()]
    out = args.out or default_out("search_throughput")

    with tempfile.TemporaryDirectory() as work:
        data = args.data
        if data is None:
            data = os.path.join(work, "data")
            os.makedirs(data)
            for name in DOCUMENTS:
                shutil.copy(os.path.join(LICENSES, name), os.path.join(data, name + ".txt"))
        result = {"machine": machine_info(), "device": "cpu", "dtype": args.dtype, "threads": args.threads,
                  "longrope": args.longrope, "model": args.model, "data": args.data or f"{LICENSES}: {', '.join(DOCUMENTS)}",
                  "target": "8x", "docs": args.docs, "search": SEARCH, "runs": []}
        configs = [("plain", seed, []) for seed in seeds]
        configs += [(f"race-{m:g}", seed, ["--race-margin", str(m)]) for m in margins for seed in seeds]
        configs += [(f"batch-{b}", seeds[0], ["--batch-candidates", str(b)]) for b in batches]
        # The first search process of a session runs ~20 % slower (measured: 60 s vs 48-52 s for the
        # same 240 forwards), so an unmeasured short search goes first.
        print("warm-up search (not measured) ...", flush=True)
        run_search(args, data, seeds[0], [], {"population": 4, "generations": 0, "parents": 4})
        for name, seed, extra in configs:
            print(f"search {name} seed {seed} ...", flush=True)
            r = run_search(args, data, seed, extra)
            r["config"] = name
            result["runs"].append(r)
            write_json(out, result)

    rows = compare(result)
    print_table(["config", "seed", "evals", "forwards", "raced", "search s", "evals/h", "saved %", "speedup", "same winner",
                 "winner ppl", "RSS MiB"], rows)
    write_json(out, result)


if __name__ == "__main__":
    main()
