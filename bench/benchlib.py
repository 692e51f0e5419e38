"""Shared pieces of the benchmarks: the machine, measured subprocesses, our binary, tables and JSON.

Standard library only: the drivers run with any python3 and start the venv's python (torch,
transformers, llama_cpp, numpy) only in child processes. Every measurement is a child process whose
peak resident set comes from os.wait4's rusage of that child alone (see run_measured).
"""
import array
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(os.environ.get("LONGROPE_CACHE", os.path.expanduser("~/.cache/longrope")), "bench")
VENV_PYTHON = os.path.join(os.environ.get("LONGROPE_VENV", os.path.expanduser("~/.cache/longrope-venv")), "bin", "python")
SHIPPED_MODEL = os.path.join(REPO, "models", "shipped", "books-bytes-3m")
TEXT = "/usr/share/common-licenses/GPL-3"  # ASCII prose every Debian/Ubuntu machine has
CPU_FLAGS = ("avx2", "fma", "f16c", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile", "amx_bf16")


# ---------------------------------------------------------------------------------------------------
# The machine and the tools.

def machine_info():
    """CPU model, cores, the SIMD flags that decide f32/bf16 speed, memory, OS and the date."""
    model, flags = platform.processor() or "unknown", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
    except OSError:
        pass
    mem_kb = None
    try:
        with open("/proc/meminfo") as f:
            mem_kb = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1))
    except (OSError, AttributeError):
        pass
    return {
        "cpu_model": model,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "cpu_flags": {flag: flag in flags for flag in CPU_FLAGS},
        "memory_bytes": mem_kb * 1024 if mem_kb else None,
        "os": platform.platform(),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "load_average_at_start": list(os.getloadavg()),
        "git_commit": git_commit(),
    }


def git_commit():
    proc = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else None


def default_longrope():
    """build-torch2/longrope (LibTorch 2.x) when it is built, else build/longrope (Debian's 1.13)."""
    for build in ("build-torch2", "build"):
        path = os.path.join(REPO, build, "longrope")
        if os.access(path, os.X_OK):
            return path
    sys.exit("no longrope binary in build-torch2/ or build/; run scripts/build.sh (or pass --longrope)")


def default_out(name):
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return os.path.join(REPO, "bench", "out", f"{name}-{stamp}.json")


def parse_lengths(text):
    """'1k,2k,4096' -> [1024, 2048, 4096]: the tool's token counts (k = 1024, m = 1024²; util/token_count.h)."""
    lengths = []
    for item in text.split(","):
        item = item.strip().lower()
        unit = {"k": 1024, "m": 1024 * 1024}.get(item[-1:], 1)
        digits = item[:-1] if unit > 1 else item
        if not digits.isdigit():
            sys.exit(f"--lengths: '{item}' is not a length (2048, 4k, 1m)")
        lengths.append(int(digits) * unit)
    if not lengths or min(lengths) < 4:
        sys.exit(f"--lengths: expected a list like 1k,2k,4096, got '{text}'")
    return lengths


# ---------------------------------------------------------------------------------------------------
# Measured child processes.

class Measured:
    """A finished child: exit status, captured output, wall seconds and its own peak RSS in bytes."""

    def __init__(self, cmd, returncode, stdout, stderr, wall_seconds, peak_rss_bytes):
        self.cmd, self.returncode, self.stdout, self.stderr = cmd, returncode, stdout, stderr
        self.wall_seconds, self.peak_rss_bytes = wall_seconds, peak_rss_bytes

    def check(self):
        if self.returncode != 0:
            raise RuntimeError(f"command failed (exit {self.returncode}): {' '.join(map(str, self.cmd))}\n"
                               f"{self.stdout[-3000:]}\n{self.stderr[-3000:]}")
        return self


def run_measured(cmd, env=None):
    """Runs `cmd` to completion; ru_maxrss of os.wait4 is the peak RSS of that child alone.

    Linux starts a child's ru_maxrss at its parent's RSS (the forked address space is counted until
    exec), so the driver must stay small: it never imports torch, numpy or llama_cpp itself, and a
    measured process reads at least that much anyway (~15 MB of Python against >= 100 MB)."""
    cmd = [str(c) for c in cmd]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(cmd, proc.returncode, out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                        wall, usage.ru_maxrss * 1024)  # Linux reports kilobytes


def median(values):
    s = sorted(values)
    n = len(s)
    return None if n == 0 else (s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2]))


def timed_passes(seconds):
    """The passes a rate is reported from: all but the first (a warm-up) when there are several."""
    return seconds[1:] if len(seconds) > 1 else seconds


# ---------------------------------------------------------------------------------------------------
# Models and our binary.

def model_shape(model_dir):
    """Layers, widths, vocabulary and parameter count of a LLaMA config.json (biases not counted)."""
    with open(os.path.join(model_dir, "config.json")) as f:
        return shape_from_config(json.load(f))


def shape_from_config(c):
    """model_shape of a config dict already read."""
    hidden, layers, heads = c["hidden_size"], c["num_hidden_layers"], c["num_attention_heads"]
    kv_heads = c.get("num_key_value_heads") or heads
    head_dim = c.get("head_dim") or hidden // heads
    inter, vocab = c["intermediate_size"], c["vocab_size"]
    tied = c.get("tie_word_embeddings", False)
    per_layer = hidden * head_dim * (2 * heads + 2 * kv_heads) + 3 * hidden * inter + 2 * hidden
    params = vocab * hidden * (1 if tied else 2) + layers * per_layer + hidden
    return {"layers": layers, "hidden": hidden, "heads": heads, "kv_heads": kv_heads, "head_dim": head_dim,
            "intermediate": inter, "vocab": vocab, "tied_embeddings": tied, "params": params,
            "original_length": c.get("max_position_embeddings"), "rope_theta": c.get("rope_theta", 10000.0)}


def write_u32(path, ids):
    """Token ids as little-endian uint32 (what `longrope eval --data X.u32` reads)."""
    a = array.array("I", ids)
    if sys.byteorder != "little":
        a.byteswap()
    with open(path, "wb") as f:
        a.tofile(f)


def byte_tokens(length):
    """`length` token ids = the bytes of TEXT, repeated as needed (id = byte value)."""
    with open(TEXT, "rb") as f:
        text = f.read()
    reps = -(-length // len(text))
    return list((text * reps)[:length])


def our_eval(longrope, model_dir, tokens_path, length, dtype, methods, threads, table=None, extra=()):
    """`longrope eval` over one document (plus `extra` options); returns (its --json, the Measured child)."""
    with tempfile.TemporaryDirectory() as work:
        out = os.path.join(work, "eval.json")
        cmd = [longrope, "eval", "--model", model_dir, "--data", tokens_path, "--length", length, "--docs", 1,
               "--method", ",".join(methods), "--dtype", dtype, "--threads", threads, "--bos", "none",
               "--tokenizer", "bytes", "--json", out]
        if table:
            cmd += ["--table", table]
        cmd += list(extra)
        m = run_measured(cmd).check()
        with open(out) as f:
            return json.load(f), m


# ---------------------------------------------------------------------------------------------------
# Output.

def print_table(headers, rows):
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for i, row in enumerate(cells):
        print("  ".join(v.rjust(w) if j else v.ljust(w) for j, (v, w) in enumerate(zip(row, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    sys.stdout.flush()


def write_json(path, obj):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
    print(f"wrote {path}", flush=True)


def fmt(value, spec):
    return None if value is None else format(value, spec)
