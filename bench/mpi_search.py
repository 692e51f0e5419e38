"""The search under MPI: evaluations per hour with 1, 2 and 3 ranks, and what a candidate sent to another
rank costs beyond its scoring (messages, (de)serialisation, polling).

The search is search_throughput.py's (shipped byte-level model, 8x, 5 licences, population 16, 4
generations of 4 + 4 children from the best 8), each evaluator on 1 thread. Configurations:
  process          one process, no MPI: the reference table and rate;
  ranks-N          mpirun -n N: rank 0 and N - 1 workers all score candidates;
  coordinator-2    mpirun -n 2 --coordinator-only: every candidate crosses to rank 1 and back, so its
                   rate against `process` is the whole price of the MPI path per candidate.
Rank 0 logs, per group scored elsewhere, the round trip it saw and the scoring time the worker measured;
their difference is the overhead per candidate (one candidate per group here). Each configuration's
table must equal the process's (same seed, same bits). On a 2-core machine 3 ranks oversubscribe the
cores: expect no gain there; the overhead is what carries to a cluster, where each rank has a device.
Usage: python3 bench/mpi_search.py [--ranks 1,2,3] [--seed 1] [--out R.json]
"""
import argparse
import json
import os
import re
import shutil
import tempfile

from benchlib import SHIPPED_MODEL, default_longrope, default_out, fmt, machine_info, print_table, run_measured, write_json
from search_throughput import DOCUMENTS, LICENSES, SEARCH  # the same search
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
OVERHEAD = re.compile(r"mpi: (\d+) candidate groups scored on other ranks; per group ([0-9.]+) s round trip, ([0-9.]+) s "
                      r"scoring, ([0-9.]+) ms overhead")


def run_search(args, data, launcher, extra):
    with tempfile.TemporaryDirectory() as work:
        run = os.path.join(work, "run")
        cmd = launcher + [args.longrope, "search", "--model", args.model, "--data", data, "--out", run, "--seed", args.seed,
                          "--target", "8x", "--docs", "5", "--threads", "1"]
        for key, value in SEARCH.items():
            cmd += [f"--{key}", str(value)]
        m = run_measured(cmd + extra, env={**os.environ, **MPI_ENV}).check()
        target = next(d for d in os.listdir(run) if os.path.isdir(os.path.join(run, d)))
        with open(os.path.join(run, target, "table.json")) as f:
            table = json.load(f)
    r = {"evaluations": table["evaluations"], "search_seconds": table["wall_time_s"], "process_wall_seconds": m.wall_seconds,
         "evaluations_per_hour": 3600.0 * table["evaluations"] / table["wall_time_s"],
         "winner": {"lambda": table["lambda"], "start_tokens": table["start_tokens"], "search_ppl": table["search_ppl"]}}
    found = OVERHEAD.search(m.stderr)
    if found:
        r["remote"] = {"groups": int(found[1]), "round_trip_s": float(found[2]), "scoring_s": float(found[3]),
                       "overhead_ms": float(found[4])}
    return r


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ranks", default="1,2,3")
    parser.add_argument("--seed", default="1")
    parser.add_argument("--model", default=SHIPPED_MODEL)
    parser.add_argument("--longrope", default=None, help="our binary (default build-torch2/longrope, else build/longrope)")
    parser.add_argument("--out", default=None, help="JSON output (default bench/out/mpi_search-DATE.json)")
    args = parser.parse_args()
    args.longrope = os.path.abspath(args.longrope or default_longrope())
    out = args.out or default_out("mpi_search")
    if not shutil.which("mpirun"):
        raise SystemExit("mpi_search: no mpirun (apt install openmpi-bin libopenmpi-dev)")
    ranks = [int(n) for n in args.ranks.split(",") if n.strip()]
    configs = [("process", [], [])] + [(f"ranks-{n}", ["mpirun", "--oversubscribe", "-n", str(n)], []) for n in ranks]
    configs += [("coordinator-2", ["mpirun", "--oversubscribe", "-n", "2"], ["--coordinator-only"])]
    result = {"machine": machine_info(), "longrope": args.longrope, "model": args.model, "target": "8x", "docs": 5,
              "threads_per_rank": 1, "search": SEARCH, "seed": args.seed, "runs": []}
    with tempfile.TemporaryDirectory() as work:
        data = os.path.join(work, "data")
        os.makedirs(data)
        for name in DOCUMENTS:
            shutil.copy(os.path.join(LICENSES, name), os.path.join(data, name + ".txt"))
        print("warm-up search (not measured) ...", flush=True)
        run_measured([args.longrope, "search", "--model", args.model, "--data", data, "--out", os.path.join(work, "warm"),
                      "--target", "8x", "--docs", "5", "--population", "4", "--generations", "0", "--parents", "4"]).check()
        for name, launcher, extra in configs:
            print(f"search {name} ...", flush=True)
            r = run_search(args, data, launcher, extra)
            r["config"] = name
            result["runs"].append(r)
            write_json(out, result)
    base = result["runs"][0]
    rows = []
    for r in result["runs"]:
        r["same_table_as_process"] = r["winner"] == base["winner"]
        r["seconds_per_evaluation"] = r["search_seconds"] / r["evaluations"]
        remote = r.get("remote", {})
        rows.append([r["config"], r["evaluations"], fmt(r["search_seconds"], ".1f"), fmt(r["evaluations_per_hour"], ".0f"),
                     fmt(1e3 * r["seconds_per_evaluation"], ".1f"), remote.get("groups", "-"),
                     fmt(remote["overhead_ms"], ".2f") if remote else "-", "yes" if r["same_table_as_process"] else "NO"])
    print_table(["config", "evals", "search s", "evals/h", "ms/eval", "remote groups", "overhead ms/group", "same table"], rows)
    write_json(out, result)


if __name__ == "__main__":
    main()
