"""Throughput of one document's forward + NLL: longrope eval against transformers and llama.cpp.

For each model (the shipped byte-level 3M model, a random-weight LLaMA of ~100M parameters), dtype
(f32, bf16) and length, every system reads the same weights and the same token ids (the bytes of
GPL-3, repeated) and is timed in its own process, so that its peak RSS is its own:
  ours          `longrope eval --docs 1 --method none` with the window repeated --repeats times in
                one process (its own tokens_per_second, which excludes loading);
  transformers  LlamaForCausalLM, sdpa attention, bench/hf_forward.py, --repeats passes in one process;
  llama.cpp     llama-perplexity on GGUFs written by llama.cpp's convert_hf_to_gguf.py (f32 / bf16),
                -c L -b L -ub L --chunks 1, flash attention, KV cache in the run's dtype; one process
                per repeat (it cannot score one chunk twice), timed by its log (see llama_cpp_run).
A system's rate is the median over its passes after the first (a warm-up) when --repeats > 1.

Against the machine's peak: the CPU's attainable GEMM rate with the same torch and threads (bench/
gemm_peak.py, measured at the start of the run in its own process unless --peak gives its JSON), the
model FLOPs of one forward (bench/model_flops.py: the weight matmuls incl. the LM head, plus causal
attention at half of T²), and per system the achieved FLOP/s (model FLOPs / median pass seconds) and
its utilisation of that peak. --against-peak picks the set that issue 40 targets: the SmolLM2-135M
shape and the ~100M LLaMA at 2k, 8k and 32k tokens, f32 (and bf16 where the CPU has native bf16).

Perplexities are checked before speeds are compared: llama-perplexity scores only the second half of
its window (logits n/2 .. n-2), so transformers reports that half as well at every length, and at
--ppl-check lengths our own logits (`longrope forward`) are scored the same way.
Usage: python3 bench/eval_throughput.py [--lengths 1k,2k] [--models shipped-3m] [--out R.json]
       python3 bench/eval_throughput.py --against-peak [--peak gemm_peak.json]
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile

import bench_models
import gemm_peak
import model_flops
from benchlib import (CACHE, TEXT, VENV_PYTHON, default_longrope, default_out, fmt, machine_info, median, model_shape,
                      our_eval, parse_lengths, print_table, run_measured, timed_passes, write_json)

HERE = os.path.dirname(os.path.abspath(__file__))
SYSTEMS = ("ours", "transformers", "llama.cpp")
NLL_TOL = {"f32": 1e-3, "bf16": 3e-2}  # nats; bf16 rounds at different points in each system
TARGET_LENGTHS = (2048, 16384)          # the targets hold at every length in this range
TARGET_VS_LLAMA_CPP, TARGET_VS_TRANSFORMERS = 1.0, 1.5
DEFAULT_MODELS, DEFAULT_LENGTHS = "shipped-3m,random-100m", "1k,2k,4k,8k,16k"
# Issue 40, item 3: on the SmolLM2-135M shape at 8k and 32k, ours >= 70 % of the attainable GEMM rate
# and >= 1.3x transformers.
PEAK_MODELS, PEAK_LENGTHS = "smollm2-135m-shape,random-100m", "2k,8k,32k"
PEAK_TARGET_MODEL, PEAK_TARGET_LENGTHS = "smollm2-135m-shape", (8192, 32768)
PEAK_TARGET_UTILISATION, PEAK_TARGET_VS_TRANSFORMERS = 0.70, 1.3


# ---------------------------------------------------------------------------------------------------
# One measurement per system. Each returns a dict with tokens_per_second, pass_seconds and
# peak_rss_bytes, plus what it scored.

def measure_ours(args, model_dir, tokens_path, length, dtype):
    # Against the peak, each pass also says where its time went (`eval --profile`: a clock read per stage).
    extra = ["--profile"] if args.against_peak else []
    result, m = our_eval(args.longrope, model_dir, tokens_path, length, dtype, ["none"] * args.repeats, args.threads, extra=extra)
    seconds = [r["seconds"] for r in result["results"]]
    profile = result["results"][-1].get("profile")
    return {"pass_seconds": seconds, "tokens_per_second": length / median(timed_passes(seconds)),
            "profile": None if profile is None else {"pass_seconds": seconds[-1], "stages": profile},
            "peak_rss_bytes": m.peak_rss_bytes, "wall_seconds": m.wall_seconds,
            "mean_nll": result["results"][0]["mean_nll"], "predictions": result["results"][0]["predictions"],
            "timing": "longrope eval's own `seconds` per method pass (forward + chunked NLL, load excluded)"}


def measure_transformers(args, model_dir, tokens_path, length, dtype):
    with tempfile.TemporaryDirectory() as work:
        out = os.path.join(work, "hf.json")
        m = run_measured([args.python, os.path.join(HERE, "hf_forward.py"), "--model", model_dir, "--tokens",
                          tokens_path, "--length", length, "--dtype", dtype, "--threads", args.threads,
                          "--passes", args.repeats, "--out", out]).check()
        with open(out) as f:
            r = json.load(f)
    r.update({"tokens_per_second": length / median(timed_passes(r["pass_seconds"])), "peak_rss_bytes": m.peak_rss_bytes,
              "wall_seconds": m.wall_seconds, "timing": "forward + chunked NLL per pass, load excluded (time.perf_counter)"})
    return r


LOG_TIME = re.compile(r"^(\d+)\.(\d+)\.(\d+)\.(\d+) ")


def log_seconds(line):
    """Seconds of a llama.cpp log timestamp 'M.SS.mmm.uuu '."""
    m = LOG_TIME.match(line)
    return None if not m else int(m[1]) * 60 + int(m[2]) + int(m[3]) * 1e-3 + int(m[4]) * 1e-6


LLAMA_CPP_ATTEMPTS = 3


def llama_cpp_run(args, gguf, text_path, length, dtype):
    """One llama-perplexity process scoring the first window of `length` tokens.

    Timing: the interval between its log lines 'calculating perplexity over' and 'N seconds per
    pass', which bracket the decode of the window (KV clear, batch, llama_decode, synchronize;
    scoring comes after). Log timestamps have microsecond resolution; the printed 'seconds per
    pass' has 10 ms, and llama_perf_context_print's prompt-eval time is not usable in this build
    (it reports ~0.3 ms for a 512-token pass).
    Its logger is an asynchronous queue that is never flushed at exit (common/log.cpp leaks it on
    purpose), so on a busy machine the last lines can be lost; such a run is repeated."""
    ubatch = min(length, args.llama_ubatch) if args.llama_ubatch > 0 else length
    cmd = [os.path.join(args.llama_bin, "llama-perplexity"), "-m", gguf, "-f", text_path, "-c", length, "-b", length,
           "-ub", ubatch, "--chunks", 1, "-t", args.threads, "-tb", args.threads, "-fa", "on", "-ctk", dtype,
           "-ctv", dtype, "-fit", "off", "--ppl-output-type", 1]
    for attempt in range(1, LLAMA_CPP_ATTEMPTS + 1):
        try:
            return {**parse_llama_perplexity(run_measured(cmd).check()), "attempts": attempt, "ubatch": ubatch}
        except ValueError as e:
            if attempt == LLAMA_CPP_ATTEMPTS:
                raise RuntimeError(f"{e}; {attempt} attempts") from None
            print("  llama-perplexity's log was cut short; running it again", file=sys.stderr, flush=True)


def parse_llama_perplexity(m):
    lines = (m.stderr + "\n" + m.stdout).splitlines()
    start = next((log_seconds(x) for x in lines if "perplexity: calculating perplexity over" in x), None)
    end_line = next((x for x in lines if "seconds per pass" in x), None)
    score = next((re.match(r"^\s*0\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$", x) for x in lines
                  if re.match(r"^\s*0\s+[\d.]+\s+[\d.]+\s+[\d.]+\s*$", x)), None)
    if start is None or end_line is None or score is None:
        raise ValueError(f"cannot read llama-perplexity's output: {' '.join(m.cmd)}\n"
                         f"stdout: {m.stdout[-1500:]}\nstderr: {m.stderr[-1500:]}")
    return {"seconds": log_seconds(end_line) - start,
            "printed_seconds_per_pass": float(re.search(r"([\d.]+) seconds per pass", end_line)[1]),
            "ppl": float(score[1]), "mean_nll": float(score[2]), "peak_rss_bytes": m.peak_rss_bytes,
            "wall_seconds": m.wall_seconds, "command": m.cmd}


def measure_llama_cpp(args, gguf, text_path, length, dtype):
    runs = [llama_cpp_run(args, gguf, text_path, length, dtype) for _ in range(args.repeats)]
    seconds = [r["seconds"] for r in runs]
    last = runs[-1]
    return {"pass_seconds": seconds, "tokens_per_second": length / median(timed_passes(seconds)),
            "peak_rss_bytes": max(r["peak_rss_bytes"] for r in runs),
            "process_wall_seconds": [r["wall_seconds"] for r in runs],
            "printed_seconds_per_pass": [r["printed_seconds_per_pass"] for r in runs],
            "mean_nll_second_half": last["mean_nll"], "ppl_second_half": last["ppl"],
            "predictions_second_half": length - length // 2 - 1, "flash_attn": "on", "ubatch": last["ubatch"],
            "kv_cache_type": dtype, "attempts": [r["attempts"] for r in runs], "command": last["command"],
            "timing": "decode of the window from llama-perplexity's log timestamps; one process per pass"}


def our_second_half_nll(args, model_dir, tokens_path, length, dtype):
    """Our NLL under llama-perplexity's rule, from `longrope forward` logits (T, V) scored by checks.py."""
    os.makedirs(CACHE, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as work:  # (T, V) float32 can be GBs: not in /tmp
        out = os.path.join(work, "logits.npy")
        run_measured([args.longrope, "forward", "--model", model_dir, "--tokens", tokens_path, "--out", out,
                      "--method", "none", "--dtype", dtype, "--threads", args.threads]).check()
        m = run_measured([args.python, os.path.join(HERE, "checks.py"), "second-half-nll", "--logits", out,
                          "--tokens", tokens_path]).check()
        return json.loads(m.stdout)["mean_nll"]


# ---------------------------------------------------------------------------------------------------

def agreement(row, dtype):
    """NLL differences (nats) between systems on the same predictions; `agrees` within NLL_TOL[dtype]."""
    ours, hf, cpp = row.get("ours", {}), row.get("transformers", {}), row.get("llama.cpp", {})
    pairs = {
        "transformers_minus_ours_all": (hf.get("mean_nll"), ours.get("mean_nll")),
        "llama_cpp_minus_ours_second_half": (cpp.get("mean_nll_second_half"), ours.get("mean_nll_second_half")),
        "llama_cpp_minus_transformers_second_half": (cpp.get("mean_nll_second_half"), hf.get("mean_nll_second_half")),
    }
    diffs = {k: (a - b if a is not None and b is not None else None) for k, (a, b) in pairs.items()}
    checked = [abs(d) for d in diffs.values() if d is not None]
    return {"nll_tolerance": NLL_TOL[dtype], **diffs,
            "agrees": (max(checked) <= NLL_TOL[dtype]) if checked else None}


def software(args):
    code = "import importlib.metadata as m; print(m.version('torch'), m.version('transformers'))"
    versions = subprocess.run([args.python, "-c", code], capture_output=True, text=True).stdout.split()
    ldd = subprocess.run(["ldd", args.longrope], capture_output=True, text=True).stdout
    lib = re.search(r"libtorch_cpu\.so\S* => (\S+)", ldd)
    info = {"longrope": args.longrope, "longrope_libtorch": lib[1] if lib else None, "python_for_peers": args.python,
            "torch": versions[0] if versions else None, "transformers": versions[1] if len(versions) > 1 else None}
    if args.llama_env:
        info["llama_cpp"] = f"llama.cpp vendored in llama-cpp-python {args.llama_env['LLAMA_CPP_VERSION']}, built in {args.llama_bin}"
    return info


def measure_row(args, name, model_dir, shape, dtype, length, tokens_path, text_path, ggufs, check_ppl):
    row = {"model": name, "model_shape": shape, "device": "cpu", "dtype": dtype, "length": length, "threads": args.threads}
    for system in args.systems:
        try:
            if system == "ours":
                r = measure_ours(args, model_dir, tokens_path, length, dtype)
                r["mean_nll_second_half"] = (our_second_half_nll(args, model_dir, tokens_path, length, dtype)
                                             if check_ppl and "llama.cpp" in args.systems else None)
            elif system == "transformers":
                r = measure_transformers(args, model_dir, tokens_path, length, dtype)
            else:
                r = measure_llama_cpp(args, ggufs[dtype], text_path, length, dtype)
        except Exception as e:  # one failed system (memory, a missing build) must not lose the others
            r = {"error": str(e).strip()[-2000:]}
            print(f"  {system} failed: {r['error'][:500]}", file=sys.stderr, flush=True)
        row[system] = {"system": system, "device": "cpu", "dtype": dtype, "length": length, **r}
    ours_tps = row.get("ours", {}).get("tokens_per_second")
    for system in args.systems:
        peer = row[system].get("tokens_per_second")
        if system != "ours":
            row[system]["ours_over_this"] = ours_tps / peer if ours_tps and peer else None
    row["ppl_agreement"] = agreement(row, dtype)
    add_utilisation(args, row, shape, dtype, length)
    if TARGET_LENGTHS[0] <= length <= TARGET_LENGTHS[1]:
        vs_cpp = row.get("llama.cpp", {}).get("ours_over_this")
        vs_hf = row.get("transformers", {}).get("ours_over_this")
        row["targets"] = {"ours_over_llama_cpp_at_least": TARGET_VS_LLAMA_CPP,
                          "ours_over_transformers_at_least": TARGET_VS_TRANSFORMERS,
                          "met_llama_cpp": None if vs_cpp is None else vs_cpp >= TARGET_VS_LLAMA_CPP,
                          "met_transformers": None if vs_hf is None else vs_hf >= TARGET_VS_TRANSFORMERS}
    return row


def add_utilisation(args, row, shape, dtype, length):
    """Model FLOPs of the forward, each system's achieved FLOP/s and its share of the GEMM peak."""
    flops = model_flops.forward_flops(shape, length)
    peak = gemm_peak.peak_flops(args.peak_doc, dtype) if args.peak_doc else None
    row["model_flops"] = flops
    row["model_gflop_per_forward"] = flops["total"] / 1e9
    row["gemm_peak_flops"] = peak
    if peak is None:
        row["gemm_peak_missing"] = ("no gemm peak (--peak none)" if not args.peak_doc
                                    else gemm_peak.not_measured_reason(args.peak_doc, dtype))
    for system in args.systems:
        tps = row[system].get("tokens_per_second")
        achieved = flops["total"] * tps / length if tps else None
        row[system]["model_flops_per_second"] = achieved
        row[system]["utilisation_of_gemm_peak"] = achieved / peak if achieved and peak else None
    if row["model"] == PEAK_TARGET_MODEL and length in PEAK_TARGET_LENGTHS:
        util = row.get("ours", {}).get("utilisation_of_gemm_peak")
        vs_hf = row.get("transformers", {}).get("ours_over_this")
        row["peak_targets"] = {"utilisation_at_least": PEAK_TARGET_UTILISATION,
                               "ours_over_transformers_at_least": PEAK_TARGET_VS_TRANSFORMERS,
                               "met_utilisation": None if util is None else util >= PEAK_TARGET_UTILISATION,
                               "met_transformers": None if vs_hf is None else vs_hf >= PEAK_TARGET_VS_TRANSFORMERS}


def peak_table_rows(rows):
    def get(row, system, key):
        return row.get(system, {}).get(key)

    def g(v):
        return fmt(None if v is None else v / 1e9, ".1f")

    def pct(v):
        return fmt(None if v is None else 100 * v, ".1f")

    out = []
    for r in rows:
        t = r.get("peak_targets")
        met = "-" if not t else "/".join({True: "yes", False: "NO", None: "?"}[t[k]]
                                         for k in ("met_utilisation", "met_transformers"))
        out.append([r["model"], r["dtype"], r["length"], fmt(r["model_gflop_per_forward"], ".1f"),
                    fmt(100 * r["model_flops"]["attention"] / r["model_flops"]["total"], ".0f"),
                    g(r["gemm_peak_flops"]) if r["gemm_peak_flops"] else "n/a",
                    g(get(r, "ours", "model_flops_per_second")), pct(get(r, "ours", "utilisation_of_gemm_peak")),
                    g(get(r, "transformers", "model_flops_per_second")), pct(get(r, "transformers", "utilisation_of_gemm_peak")),
                    g(get(r, "llama.cpp", "model_flops_per_second")), pct(get(r, "llama.cpp", "utilisation_of_gemm_peak")),
                    fmt(get(r, "transformers", "ours_over_this"), ".2f"), met])
    return out


PEAK_HEADERS = ["model", "dtype", "length", "GFLOP/fwd", "attn %", "peak GFLOP/s", "ours GFLOP/s", "ours %peak",
                "hf GFLOP/s", "hf %peak", "l.cpp GFLOP/s", "l.cpp %peak", "ours/hf", "target >=70%/>=1.3x"]


# Our stages, grouped: each group's share of the pass and its GFLOP/s (a GEMM-bound group near the peak,
# attention below it shows where the headroom is).
PROFILE_GROUPS = [("attention", ("attention",)), ("projections", ("q/k/v projections", "output projection")),
                  ("mlp", ("mlp",)), ("lm head", ("lm head",)), ("loss", ("loss",)),
                  ("norms+rope+adds", ("norms", "rope", "residual adds", "embedding"))]
FLOP_GROUPS = ("attention", "projections", "mlp", "lm head")  # the others do no matmul: their share only
PROFILE_HEADERS = (["model", "dtype", "length"] + [f"{g} %" for g, _ in PROFILE_GROUPS] + ["other %"]
                   + [f"{g} GFLOP/s" for g in FLOP_GROUPS])


def profile_table_rows(rows):
    out = []
    for r in rows:
        prof = r.get("ours", {}).get("profile")
        if not prof:
            continue
        total, shares, rates, timed = prof["pass_seconds"], [], [], 0.0
        for group, stages in PROFILE_GROUPS:
            sec = sum(s["seconds"] for s in prof["stages"] if s["stage"] in stages)
            flops = sum(s["flops"] for s in prof["stages"] if s["stage"] in stages)
            timed += sec
            shares.append(f"{100 * sec / total:.1f}")
            if group in FLOP_GROUPS:
                rates.append(f"{flops / sec / 1e9:.1f}" if flops and sec else "")
        out.append([r["model"], r["dtype"], r["length"]] + shares + [f"{100 * (total - timed) / total:.1f}"] + rates)
    return out


def print_tables(rows):
    print_table(HEADERS, table_rows(rows))
    print()
    print_table(PEAK_HEADERS, peak_table_rows(rows))
    profile_rows = profile_table_rows(rows)
    if profile_rows:
        print()
        print_table(PROFILE_HEADERS, profile_rows)


def gemm_peak_for_run(args, dtypes, models):
    """The gemm_peak document this run divides by: --peak's file, or measured now on the same threads."""
    if args.peak == "none":
        return None
    if args.peak:
        doc = gemm_peak.load(args.peak)
        source = os.path.abspath(args.peak)
        if doc["threads"] != args.threads:
            sys.exit(f"--peak {args.peak}: measured on {doc['threads']} threads, this run uses {args.threads}")
        here = machine_info()["cpu_model"]
        if doc["machine"]["cpu_model"] != here:
            print(f"warning: --peak {args.peak} was measured on '{doc['machine']['cpu_model']}', this is '{here}'",
                  file=sys.stderr, flush=True)
    else:
        source = os.path.splitext(args.out)[0] + "-gemm-peak.json"
        print(f"measuring the GEMM peak on {args.threads} threads (bench/gemm_peak.py) ...", flush=True)
        doc = gemm_peak.run_child(args.python, args.threads, source, dtypes, ",".join(models),
                                  ["--longrope", args.longrope])
    for dtype in dtypes:
        peak = gemm_peak.peak_flops(doc, dtype)
        print(f"GEMM peak {dtype}: " + (f"{peak / 1e9:.1f} GFLOP/s" if peak else
                                        gemm_peak.not_measured_reason(doc, dtype)), flush=True)
    return {"source": source, **doc}


def table_rows(rows):
    def get(row, system, key):
        return row.get(system, {}).get(key)

    def ppl(nll):
        return None if nll is None else math.exp(nll)

    def mib(row, system):
        rss = get(row, system, "peak_rss_bytes")
        return None if rss is None else rss / 2**20

    out = []
    for r in rows:
        a = r["ppl_agreement"]
        ours_nll, hf_nll = get(r, "ours", "mean_nll"), get(r, "transformers", "mean_nll")
        cpp_nll = get(r, "llama.cpp", "mean_nll_second_half")
        out.append([r["model"], r["dtype"], r["length"],
                    fmt(get(r, "ours", "tokens_per_second"), ".0f"), fmt(get(r, "transformers", "tokens_per_second"), ".0f"),
                    fmt(get(r, "llama.cpp", "tokens_per_second"), ".0f"),
                    fmt(get(r, "transformers", "ours_over_this"), ".2f"), fmt(get(r, "llama.cpp", "ours_over_this"), ".2f"),
                    fmt(mib(r, "ours"), ".0f"), fmt(mib(r, "transformers"), ".0f"), fmt(mib(r, "llama.cpp"), ".0f"),
                    fmt(ppl(ours_nll), ".4f"), fmt(ppl(hf_nll), ".4f"), fmt(ppl(cpp_nll), ".4f"),
                    fmt(a["transformers_minus_ours_all"], "+.1e"), fmt(a["llama_cpp_minus_ours_second_half"], "+.1e"),
                    fmt(a["llama_cpp_minus_transformers_second_half"], "+.1e"),
                    {True: "yes", False: "NO", None: "-"}[a["agrees"]]])
    return out


HEADERS = ["model", "dtype", "length", "ours tok/s", "hf tok/s", "l.cpp tok/s", "ours/hf", "ours/l.cpp",
           "RSS ours MiB", "RSS hf", "RSS l.cpp", "ppl ours", "ppl hf", "ppl l.cpp(1/2)", "dNLL hf-ours",
           "dNLL l.cpp-ours(1/2)", "dNLL l.cpp-hf(1/2)", "agree"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=None, help="comma list of: " + ", ".join(bench_models.MODELS)
                        + f" (default {DEFAULT_MODELS}; with --against-peak {PEAK_MODELS})")
    parser.add_argument("--lengths", default=None, help=f"default {DEFAULT_LENGTHS}; with --against-peak {PEAK_LENGTHS}")
    parser.add_argument("--dtypes", default=None, help="default f32,bf16; with --against-peak f32, and bf16 where the "
                                                       "CPU has native bf16")
    parser.add_argument("--against-peak", action="store_true",
                        help=f"issue 40's set: --models {PEAK_MODELS} --lengths {PEAK_LENGTHS} (unless given)")
    parser.add_argument("--peak", default=None, help="a bench/gemm_peak.py JSON measured on the same threads; default: "
                                                     "measure it at the start of this run; 'none': no utilisation")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--repeats", type=int, default=2, help="passes per system; the first is a warm-up when > 1")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ppl-check", choices=("first", "all", "none"), default="first",
                        help="lengths at which our logits are scored under llama-perplexity's rule (first: the "
                             "shortest per model and dtype; an extra `longrope forward` each)")
    parser.add_argument("--llama-ubatch", type=int, default=0, help="llama.cpp -ub (0: the window length)")
    parser.add_argument("--longrope", default=None, help="our binary (default build-torch2/longrope, else build/longrope)")
    parser.add_argument("--python", default=VENV_PYTHON, help="python with torch, transformers, numpy, llama_cpp (peers, checks)")
    parser.add_argument("--out", default=None, help="JSON output (default bench/out/eval_throughput-DATE.json)")
    args = parser.parse_args()
    args.longrope = os.path.abspath(args.longrope or default_longrope())
    args.systems = [s for s in args.systems.split(",") if s]
    args.out = args.out or default_out("eval_throughput")
    if args.against_peak:
        native, _ = gemm_peak.native_bf16()
        args.models = args.models or PEAK_MODELS
        args.lengths = args.lengths or PEAK_LENGTHS
        args.dtypes = args.dtypes or ("f32,bf16" if native else "f32")
    args.models = args.models or DEFAULT_MODELS
    args.lengths, args.dtypes = args.lengths or DEFAULT_LENGTHS, args.dtypes or "f32,bf16"
    lengths, dtypes = parse_lengths(args.lengths), [d for d in args.dtypes.split(",") if d]
    models = [m for m in args.models.split(",") if m]
    if any(m not in bench_models.MODELS for m in models):
        sys.exit(f"--models from {', '.join(bench_models.MODELS)}")
    if any(s not in SYSTEMS for s in args.systems) or any(d not in NLL_TOL for d in dtypes) or args.repeats < 1:
        sys.exit(f"--systems from {SYSTEMS}, --dtypes from {tuple(NLL_TOL)}, --repeats >= 1")
    args.llama_env = bench_models.llama_cpp_env() if "llama.cpp" in args.systems else None
    if "llama.cpp" in args.systems and not args.llama_env:
        print("llama.cpp is not built (scripts/llama-cpp.sh builds it): measuring without it", flush=True)
        args.systems.remove("llama.cpp")
    if args.llama_env:
        args.llama_bin = args.llama_env["LLAMA_CPP_BIN"]
        os.environ["LLAMA_CPP_LIB_PATH"] = args.llama_env["LLAMA_CPP_LIB_PATH"]  # for llama_cpp in checks.py

    report = {"benchmark": "eval_throughput", "machine": machine_info(), "device": "cpu", "threads": args.threads,
              "repeats": args.repeats, "rate": "median tokens/s over the passes after the first (all if --repeats 1)",
              "software": software(args), "tokens": f"bytes of {TEXT}, repeated (id = byte value)", "models": {},
              "tokenization": {}, "flops_formula": model_flops.FORMULA,
              "utilisation": "model FLOPs per forward x tokens/s / length, divided by gemm_peak's peak_flops of the "
                             "row's dtype (max over its shapes of torch.mm's best rate, same threads)",
              "gemm_peak": None, "rows": []}
    args.peak_doc = report["gemm_peak"] = gemm_peak_for_run(args, dtypes, models)
    write_json(args.out, report)
    token_files, text_path = bench_models.prepare_tokens(lengths)
    for name in models:
        model_dir = bench_models.prepare_model(name, args.longrope)
        shape = model_shape(model_dir)
        report["models"][name] = {"path": model_dir, **shape}
        ggufs = {}
        if "llama.cpp" in args.systems:
            ggufs = {d: bench_models.prepare_gguf(args.python, model_dir, d, args.llama_env["LLAMA_CPP_CONVERT"]) for d in dtypes}
            verdict = bench_models.check_tokenization(args.python, ggufs[dtypes[0]], text_path, os.environ)
            report["tokenization"][name] = verdict
            print(f"{name}: {verdict}", flush=True)
        for dtype in dtypes:
            for i, length in enumerate(lengths):
                check = args.ppl_check == "all" or (args.ppl_check == "first" and i == 0)
                print(f"measuring {name} {dtype} {length} ...", flush=True)
                row = measure_row(args, name, model_dir, shape, dtype, length, token_files[length], text_path, ggufs, check)
                report["rows"].append(row)
                print_tables([row])
                write_json(args.out, report)  # partial results survive an interrupted run
    print(f"\n{report['machine']['cpu_model']}, {args.threads} threads, CPU; tokens/s = median over passes 2..{args.repeats}"
          if args.repeats > 1 else f"\n{report['machine']['cpu_model']}, {args.threads} threads, CPU")
    print_tables(report["rows"])
    write_json(args.out, report)


if __name__ == "__main__":
    main()
