"""The CPU's attainable GEMM rate (FLOP/s) with LibTorch, on a given number of threads.

    python3 bench/gemm_peak.py --threads 2                   # f32 (+ bf16 where native), default shapes
    python3 bench/gemm_peak.py --threads 1 --square 256,512 --models '' --repeats 3 --min-seconds 0.05

What a model-FLOP utilisation is measured against: the best rate torch.mm reaches here, in the venv's
torch, which is the LibTorch 2.x that build-torch2/longrope links (the JSON records both library
paths when it can). Threads: torch.set_num_threads(--threads), as `longrope eval --threads N` calls
at::set_num_threads(N); the OpenMP/MKL environment is inherited unchanged, as eval_throughput.py runs
our binary (the variables that are set are recorded under `env`).

Shapes (each C = A·B with C preallocated, 2·M·N·K FLOPs a call):
  square   N×N·N×N for each --square N;
  model    for each --models name and each --rows T, the products a forward of that model runs, with
           the weight in nn.Linear's (out, in) layout, i.e. x·Wᵀ: q/o (hidden → heads·head_dim),
           k/v (hidden → kv_heads·head_dim), gate/up (hidden → intermediate), down (intermediate →
           hidden) and the LM head (hidden → vocab).
Each shape: a warm-up call, one call to size a repeat to >= --min-seconds, then --repeats timed repeats;
its rate is the best repeat's (also the median's). The peak of a dtype is the maximum over its shapes.

dtypes: f32 always; bf16 only where the CPU has native bf16 (avx512_bf16 or amx_bf16 among the
/proc/cpuinfo flags), otherwise recorded as "not measured: no native bf16" (--bf16 always measures it
anyway, marked native: false).

Importable with the standard library only (torch is imported by measure()): eval_throughput.py calls
run_child() and peak_flops(). The CLI re-runs itself under the venv's python when this one has no torch.
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_models  # noqa: E402  (standard library only)
from benchlib import (REPO, VENV_PYTHON, default_out, fmt, machine_info, print_table, run_measured,  # noqa: E402
                      shape_from_config, write_json)

DEFAULT_SQUARE = "1024,2048,4096"
DEFAULT_MODELS = "smollm2-135m-shape,random-100m"
DEFAULT_ROWS = "512,2048"
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")
ENV_PREFIXES = ("OMP_", "MKL_", "KMP_", "GOMP_", "DNNL_", "ONEDNN_", "OPENBLAS_", "ATEN_", "TORCH_")


def native_bf16(machine=None):
    """(True, flags) when /proc/cpuinfo lists avx512_bf16 or amx_bf16; else (False, the reason)."""
    flags = (machine or machine_info())["cpu_flags"]
    have = [f for f in NATIVE_BF16_FLAGS if flags.get(f)]
    if have:
        return True, "native bf16: " + ", ".join(have)
    return False, "not measured: no native bf16 (neither avx512_bf16 nor amx_bf16 in /proc/cpuinfo flags)"


def gemm_shapes(square, models, rows):
    """[{name, m, n, k, layout}] for the square sizes and each model's products at each row count."""
    shapes, seen = [], set()

    def add(name, m, n, k, layout):
        if (m, n, k, layout) not in seen:
            seen.add((m, n, k, layout))
            shapes.append({"name": name, "m": m, "n": n, "k": k, "layout": layout})

    for size in square:
        add(f"square {size}", size, size, size, "A·B")
    for model in models:
        s = shape_from_config(bench_models.model_config(model))
        d, q, kv = s["hidden"], s["heads"] * s["head_dim"], s["kv_heads"] * s["head_dim"]
        for t in rows:
            for what, k, n in (("q/o", d, q), ("k/v", d, kv), ("gate/up", d, s["intermediate"]),
                               ("down", s["intermediate"], d), ("lm head", d, s["vocab"])):
                add(f"{model} {what} T={t}", t, n, k, "x·Wᵀ")
    return shapes


def torch_env():
    return {k: v for k, v in sorted(os.environ.items()) if k.startswith(ENV_PREFIXES)}


def linked_libtorch(binary):
    """The libtorch_cpu.so a binary links (ldd), or None."""
    if not binary or not os.access(binary, os.X_OK):
        return None
    out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.strip().startswith("libtorch_cpu.so") and "=>" in line:
            return os.path.realpath(line.split("=>")[1].split()[0])
    return None


def time_shape(torch, shape, dtype, repeats, min_seconds):
    """Best and median seconds per call of one shape."""
    g = torch.Generator().manual_seed(0)
    m, n, k = shape["m"], shape["n"], shape["k"]
    a = torch.randn(m, k, generator=g).to(dtype)
    if shape["layout"] == "A·B":
        b = torch.randn(k, n, generator=g).to(dtype)
    else:  # x·Wᵀ: W stored (out, in) = (n, k) as nn.Linear's weight, used transposed
        b = torch.randn(n, k, generator=g).to(dtype).t()
    c = torch.empty(m, n, dtype=dtype)
    torch.mm(a, b, out=c)  # warm-up (first-call packing, page faults of c)
    start = time.perf_counter()
    torch.mm(a, b, out=c)
    one = max(time.perf_counter() - start, 1e-6)
    iters = max(1, math.ceil(min_seconds / one))
    per_call = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(iters):
            torch.mm(a, b, out=c)
        per_call.append((time.perf_counter() - start) / iters)
    return iters, per_call


def measure(threads, shapes, dtypes, repeats=5, min_seconds=0.2, bf16="auto", longrope=None, quiet=False):
    """The gemm_peak document: machine, threads, per dtype its shapes' rates and the peak."""
    import torch  # only here: importing this module must not need torch

    torch.set_num_threads(threads)
    machine = machine_info()
    native, why = native_bf16(machine)
    torch_lib = os.path.realpath(os.path.join(os.path.dirname(torch.__file__), "lib", "libtorch_cpu.so"))
    longrope = longrope or next((p for p in (os.path.join(REPO, b, "longrope") for b in ("build-torch2", "build"))
                                 if os.access(p, os.X_OK)), None)
    binary_lib = linked_libtorch(longrope)
    doc = {
        "benchmark": "gemm_peak", "machine": machine, "device": "cpu", "threads": threads,
        "torch_threads": torch.get_num_threads(), "env": torch_env(),
        "env_note": "inherited unchanged, as eval_throughput.py runs longrope, which calls at::set_num_threads(--threads)",
        "software": {"python": sys.executable, "torch": torch.__version__, "libtorch_cpu": torch_lib,
                     "cpu_capability": torch.backends.cpu.get_cpu_capability(),
                     "mkldnn": torch.backends.mkldnn.is_available(), "mkl": torch.backends.mkl.is_available(),
                     "longrope": longrope, "longrope_libtorch_cpu": binary_lib,
                     "same_libtorch_as_longrope": None if binary_lib is None else binary_lib == torch_lib},
        "native_bf16": native, "native_bf16_reason": why,
        "method": (f"torch.mm(A, B, out=C), C preallocated; per shape a warm-up call, then {repeats} repeats of "
                   f">= {min_seconds} s; rate = 2*M*N*K / best seconds per call; peak = max over shapes"),
        "repeats": repeats, "min_seconds": min_seconds, "dtypes": {},
    }
    torch_dtypes = {"f32": torch.float32, "bf16": torch.bfloat16}
    for dtype in dtypes:
        if dtype == "bf16" and not native and bf16 != "always":
            doc["dtypes"][dtype] = {"measured": False, "reason": why, "peak_flops": None}
            if not quiet:
                print(f"bf16: {why}", flush=True)
            continue
        results = []
        for shape in shapes:
            iters, per_call = time_shape(torch, shape, torch_dtypes[dtype], repeats, min_seconds)
            flops = 2 * shape["m"] * shape["n"] * shape["k"]
            r = {**shape, "flops_per_call": flops, "iterations_per_repeat": iters, "seconds_per_call": per_call,
                 "flops_best": flops / min(per_call), "flops_median": flops / statistics.median(per_call)}
            results.append(r)
            if not quiet:
                print(f"  {dtype} {shape['name']}: {r['flops_best'] / 1e9:.1f} GFLOP/s", flush=True)
        best = max(results, key=lambda r: r["flops_best"])
        doc["dtypes"][dtype] = {"measured": True, "native": dtype != "bf16" or native, "peak_flops": best["flops_best"],
                                "peak_shape": best["name"], "shapes": results}
    return doc


def peak_flops(doc, dtype):
    """The peak FLOP/s of `dtype` in a gemm_peak document, or None (not measured)."""
    entry = doc.get("dtypes", {}).get(dtype)
    return entry.get("peak_flops") if entry else None


def not_measured_reason(doc, dtype):
    entry = doc.get("dtypes", {}).get(dtype)
    if entry is None:
        return f"{dtype} not in the gemm_peak document"
    return None if entry.get("measured") else entry.get("reason")


def load(path):
    with open(path) as f:
        doc = json.load(f)
    if doc.get("benchmark") != "gemm_peak":
        sys.exit(f"{path}: not a gemm_peak JSON")
    return doc


def run_child(python, threads, out, dtypes=("f32", "bf16"), models=DEFAULT_MODELS, extra=()):
    """Measures in a child process under `python` (the venv's), as the drivers must not import torch;
    returns the document it wrote to `out`. Its table goes to this process's stdout."""
    cmd = [python, os.path.abspath(__file__), "--threads", threads, "--dtypes", ",".join(dtypes), "--models", models,
           "--out", out, *extra]
    m = run_measured(cmd)
    sys.stdout.write(m.stdout)
    m.check()
    return load(out)


def table(doc):
    rows = []
    for dtype, entry in doc["dtypes"].items():
        if not entry["measured"]:
            continue  # said below the table
        for r in entry["shapes"]:
            rows.append([dtype, r["name"], r["m"], r["n"], r["k"], r["iterations_per_repeat"],
                         fmt(r["flops_best"] / 1e9, ".1f"), fmt(r["flops_median"] / 1e9, ".1f")])
    print_table(["dtype", "shape", "M", "N", "K", "iters", "best GFLOP/s", "median GFLOP/s"], rows)
    print(f"\n{doc['machine']['cpu_model']}, {doc['threads']} threads, torch {doc['software']['torch']}")
    for dtype, entry in doc["dtypes"].items():
        print(f"peak {dtype}: " + (f"{entry['peak_flops'] / 1e9:.1f} GFLOP/s ({entry['peak_shape']})"
                                   if entry["measured"] else entry["reason"]))
    same = doc["software"]["same_libtorch_as_longrope"]
    if same is False:
        print(f"note: {doc['software']['longrope']} links {doc['software']['longrope_libtorch_cpu']}, "
              f"not this torch's {doc['software']['libtorch_cpu']}")
    sys.stdout.flush()


def ints(text):
    return [int(x) for x in text.split(",") if x.strip()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dtypes", default="f32,bf16")
    parser.add_argument("--bf16", choices=("auto", "always"), default="auto",
                        help="auto: bf16 only with native bf16 in the CPU flags; always: measure it anyway")
    parser.add_argument("--square", default=DEFAULT_SQUARE, help="square sizes N (N×N·N×N); '' for none")
    parser.add_argument("--models", default=DEFAULT_MODELS,
                        help="models whose products are measured ('' for none): " + ", ".join(bench_models.MODELS))
    parser.add_argument("--rows", default=DEFAULT_ROWS, help="token rows T of the model-shaped products")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--min-seconds", type=float, default=0.2, help="a timed repeat lasts at least this long")
    parser.add_argument("--longrope", default=None, help="the binary whose LibTorch is compared (default build-torch2/longrope)")
    parser.add_argument("--out", default=None, help="JSON output (default bench/out/gemm_peak-DATE.json)")
    args = parser.parse_args()
    try:
        import torch  # noqa: F401
    except ImportError:
        # (a venv's python is a link to its base interpreter, so compare the paths, not their targets)
        if os.path.abspath(sys.executable) != os.path.abspath(VENV_PYTHON) and os.access(VENV_PYTHON, os.X_OK) \
                and not os.environ.get("GEMM_PEAK_REEXEC"):
            os.environ["GEMM_PEAK_REEXEC"] = "1"
            os.execv(VENV_PYTHON, [VENV_PYTHON, os.path.abspath(__file__), *sys.argv[1:]])
        sys.exit(f"no torch in {sys.executable} (nor a venv at {VENV_PYTHON}; scripts/python-env.sh makes it)")
    dtypes = [d for d in args.dtypes.split(",") if d]
    models = [m for m in args.models.split(",") if m]
    if any(d not in ("f32", "bf16") for d in dtypes) or any(m not in bench_models.MODELS for m in models) \
            or args.threads < 1 or args.repeats < 1:
        sys.exit(f"--dtypes from f32,bf16; --models from {', '.join(bench_models.MODELS)}; --threads, --repeats >= 1")
    shapes = gemm_shapes(ints(args.square), models, ints(args.rows))
    if not shapes:
        sys.exit("no shapes: give --square or --models")
    doc = measure(args.threads, shapes, dtypes, args.repeats, args.min_seconds, args.bf16, args.longrope)
    table(doc)
    write_json(args.out or default_out("gemm_peak"), doc)


if __name__ == "__main__":
    main()
