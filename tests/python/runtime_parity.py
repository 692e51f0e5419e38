"""`longrope --runtime R` computes what runtime R computes with our exported config or GGUF.

A tiny random LLaMA (transformers, fp32, L = 256) gets a searched-style table with short and long
factors (s = 4, n̂ = 0), exported as config.json (`--layout both`) and as a GGUF (llama.cpp's own
converter, then `longrope export --format gguf`). For each runtime, at lengths L - 1, L, L + 1, 2L
and sL, its logits must match ours under `--runtime R` on the same export:
  - transformers 5.x (this venv) and 4.x (scripts/python-env.sh's second venv, sharing this torch):
    short factors up to L, long beyond, one attention factor for both;
  - llama.cpp (scripts/llama-cpp.sh's build): the set chosen by the context per sequence, which it
    pads up to a multiple of 256, so n_ctx = L - 1 runs short and L + 1 runs long.
And one decode through the KV cache that starts below L and crosses it: transformers keeps the keys
it cached before the switch rotated by the short factors (ours: `--decode-from N`); llama.cpp at
n_ctx = 2L runs the long factors throughout.
Controls that must NOT match show the rules act: each runtime against ours under the other set.
Every export format and mode also reads back into the tool with the table's own perplexity, bit for
bit (hf in each layout, GGUF longrope and freqs, JSON, and the CSV given s and the attention factor).
Tolerances: transformers 1e-4 (both f32, as in transformers_parity.py); llama.cpp 1e-3 (as argued
in llamacpp_check.py); controls must exceed 0.1.
Usage: runtime_parity.py --longrope PATH/TO/longrope
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from ecosystem import run, unavailable  # noqa: E402
import llamacpp_check as lc  # noqa: E402  (skips or fails there when llama.cpp is missing)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402

L, TARGET = lc.L, lc.TARGET
LENGTHS = [L - 1, L, L + 1, 2 * L, TARGET]
TF_TOL, LLAMA_TOL, CONTROL_MIN = 1e-4, 1e-3, 0.1
TF4_PYTHON = os.environ.get("LONGROPE_TF4_PYTHON", os.path.expanduser("~/.cache/longrope-venv-tf4/bin/python"))
failures = []

# Run under transformers 4.x: the logits of every prefix length, and of a decode from N.
TF4_SCRIPT = r"""
import sys, numpy as np, torch, transformers
model_dir, tokens_path, lengths, decode_from, decode_to, out = sys.argv[1:7]
tokens = torch.as_tensor(np.load(tokens_path), dtype=torch.long)
model = transformers.LlamaForCausalLM.from_pretrained(model_dir).eval()
result = {"version": np.array(transformers.__version__)}
with torch.no_grad():
    for t in map(int, lengths.split(",")):
        result[f"T{t}"] = model(tokens[:t].unsqueeze(0)).logits[0].float().numpy()
    n, end = int(decode_from), int(decode_to)
    step = model(tokens[:n].unsqueeze(0), use_cache=True)
    cache, rows = step.past_key_values, []
    for p in range(n, end):
        step = model(tokens[p:p + 1].unsqueeze(0), past_key_values=cache, use_cache=True)
        cache = step.past_key_values
        rows.append(step.logits[0, -1].float().numpy())
    result["decode"] = np.stack(rows)
np.savez(out, **result)
"""


def check(ok, what):
    print(f"{'ok  ' if ok else 'FAIL'} {what}", flush=True)
    if not ok:
        failures.append(what)


def transformers_decode(model_dir, tokens, n, end):
    """transformers 5.x: prefill tokens[:n], then one token at a time through the KV cache up to `end`. (5.x names
    the cache `cache` (and deprecates `past_key_values`), 4.x `past_key_values`.)"""
    model = transformers.LlamaForCausalLM.from_pretrained(model_dir).eval()
    cache_arg = "cache" if int(transformers.__version__.split(".")[0]) >= 5 else "past_key_values"
    ids = torch.as_tensor(tokens, dtype=torch.long)
    rows = []
    with torch.no_grad():
        step = model(ids[:n].unsqueeze(0), use_cache=True)
        for p in range(n, end):
            cache = step.get("cache", step.get("past_key_values"))
            step = model(ids[p:p + 1].unsqueeze(0), use_cache=True, **{cache_arg: cache})
            rows.append(step.logits[0, -1].float().numpy())
    return np.stack(rows)


def transformers4(model_dir, tokens, workdir, n, end):
    if not os.path.exists(TF4_PYTHON):
        unavailable(f"transformers 4.x venv ({TF4_PYTHON}; scripts/python-env.sh makes it)")
    tokens_path = os.path.join(workdir, "tf4-tokens.npy")
    np.save(tokens_path, np.asarray(tokens, dtype=np.int64))
    out = os.path.join(workdir, "tf4.npz")
    proc = subprocess.run([TF4_PYTHON, "-c", TF4_SCRIPT, model_dir, tokens_path, ",".join(map(str, LENGTHS)), str(n), str(end), out],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stdout[-2000:], proc.stderr[-3000:], flush=True)
        check(False, "transformers 4.x loads the exported config and runs it")
        return None
    return dict(np.load(out))


def llama_cpp_run(gguf_path, tokens, n_ctx, decode_from=None):
    """llama.cpp's logits for `tokens` in a context of n_ctx (it may pad it), prefilled whole or from `decode_from` on
    one token at a time; and the n_ctx it allocated."""
    llm = lc.llama_cpp.Llama(model_path=gguf_path, n_ctx=n_ctx, n_batch=max(n_ctx, 512), n_ubatch=max(n_ctx, 512),
                             logits_all=True, n_threads=2, n_threads_batch=2, type_k=lc.llama_cpp.GGML_TYPE_F32,
                             type_v=lc.llama_cpp.GGML_TYPE_F32, verbose=False)
    try:
        ids = [int(t) for t in tokens]
        if decode_from is None:
            llm.eval(ids)
        else:
            llm.eval(ids[:decode_from])
            for t in ids[decode_from:]:
                llm.eval([t])
        return np.array(llm.scores[:len(ids)], dtype=np.float32), llm.n_ctx()
    finally:
        llm.close()


def ours(longrope, model, tokens, workdir, name, *rope_args):
    return lc.ours_logits(longrope, model, tokens, workdir, name, "--method", "config", *rope_args)


def check_transformers(longrope, exported, tokens, workdir):
    n, end = L - 2, L + 3  # the decode: prefill 254 tokens, then positions 254 .. 258
    tf4 = transformers4(exported, tokens, workdir, n, end)
    for t in LENGTHS:
        theirs5 = lc.transformers_logits(exported, tokens[:t])
        ours_t = ours(longrope, exported, tokens[:t], workdir, f"tf-{t}", "--runtime", "transformers")
        side = "long" if t > L else "short"
        check(lc.max_diff(theirs5, ours_t) <= TF_TOL,
              f"transformers {transformers.__version__}, T={t} ({side} factors): max|Δlogit| {lc.max_diff(theirs5, ours_t):.1e}")
        if tf4 is not None:
            d = lc.max_diff(tf4[f"T{t}"], ours_t)
            check(d <= TF_TOL, f"transformers {tf4['version']}, T={t} ({side} factors): max|Δlogit| {d:.1e}")
        if t in (L, L + 1):  # the other set: the rule decides
            other = ours(longrope, exported, tokens[:t], workdir, f"other-{t}", "--runtime", "vllm",
                         "--max-model-len", str(L if t > L else TARGET))
            check(lc.max_diff(theirs5, other) > CONTROL_MIN, f"control T={t}: transformers vs ours under the other factor set differ, "
                                                             f"max|Δlogit| {lc.max_diff(theirs5, other):.2f}")
    decode5 = transformers_decode(exported, tokens[:end], n, end)
    ours_decode = ours(longrope, exported, tokens[:end], workdir, "tf-decode", "--runtime", "transformers", "--decode-from", str(n))[n:end]
    check(lc.max_diff(decode5, ours_decode) <= TF_TOL, f"transformers {transformers.__version__}, decode {n} → {end - 1} across L through "
                                                       f"the KV cache: max|Δlogit| {lc.max_diff(decode5, ours_decode):.1e}")
    if tf4 is not None:
        check(lc.max_diff(tf4["decode"], ours_decode) <= TF_TOL,
              f"transformers {tf4['version']}, the same decode: max|Δlogit| {lc.max_diff(tf4['decode'], ours_decode):.1e}")
    one_forward = ours(longrope, exported, tokens[:end], workdir, "tf-one", "--runtime", "transformers")[n:end]
    check(lc.max_diff(decode5[L - n:], one_forward[L - n:]) > CONTROL_MIN,
          f"control: past L the decode differs from one forward over the same tokens (cached short keys), "
          f"max|Δlogit| {lc.max_diff(decode5[L - n:], one_forward[L - n:]):.2f}")


def check_llama_cpp(longrope, gguf_path, tokens, workdir):
    for t in LENGTHS:
        theirs, allocated = llama_cpp_run(gguf_path, tokens[:t], t)
        mine = ours(longrope, gguf_path, tokens[:t], workdir, f"lc-{t}", "--runtime", "llama.cpp", "--n-ctx", str(t))
        side = "long" if allocated > L else "short"
        check(lc.max_diff(theirs, mine) <= LLAMA_TOL,
              f"llama.cpp, T={t}, n_ctx {t} (allocated {allocated}: {side} factors): max|Δlogit| {lc.max_diff(theirs, mine):.1e}")
        if t in (L, L + 1):
            other = ours(longrope, gguf_path, tokens[:t], workdir, f"lc-other-{t}", "--runtime", "llama.cpp",
                         "--n-ctx", str(L if allocated > L else TARGET))
            check(lc.max_diff(theirs, other) > CONTROL_MIN,
                  f"control T={t}: llama.cpp vs ours under the other factor set differ, max|Δlogit| {lc.max_diff(theirs, other):.2f}")
    n, end = L - 2, L + 3
    theirs, allocated = llama_cpp_run(gguf_path, tokens[:end], 2 * L, decode_from=n)
    mine = ours(longrope, gguf_path, tokens[:end], workdir, "lc-decode", "--runtime", "llama.cpp", "--n-ctx", str(2 * L))
    check(lc.max_diff(theirs[n:end], mine[n:end]) <= LLAMA_TOL,
          f"llama.cpp, n_ctx {2 * L}: decode {n} → {end - 1} across L through the KV cache (long factors throughout): "
          f"max|Δlogit| {lc.max_diff(theirs[n:end], mine[n:end]):.1e}")


# Factors, short factors and attention factor that float32 holds exactly: a GGUF stores them in f32,
# so every format can read back to the identical perplexity.
EXACT_LAMBDA = [1.0, 1.0, 1.125, 1.375, 2.0, 3.125, 4.5, 5.5]
EXACT_SHORT = [1.0, 1.0, 1.0, 1.015625, 1.046875, 1.09375, 1.1875, 1.3125]


def eval_ppl(longrope, model, tokens_path, length, workdir, name, *rope_args):
    out = os.path.join(workdir, f"ppl-{name}.json")
    run([longrope, "eval", "--model", model, "--data", tokens_path, "--length", str(length), "--docs", "1", "--bos", "none",
         "--threads", "2", "--json", out, *rope_args])
    with open(out) as f:
        return json.load(f)["ppl"]


def check_round_trips(longrope, hf_dir, base_gguf, tokens, workdir):
    """Each export format and mode, read back by the tool, gives the table's own perplexity, bit for bit."""
    table = lc.write_table(os.path.join(workdir, "exact.json"), EXACT_LAMBDA, short=EXACT_SHORT, attention_factor=1.25)
    tokens_path = os.path.join(workdir, "doc.npy")
    np.save(tokens_path, np.asarray(tokens, dtype=np.int64))
    for t in (L, TARGET):
        want = eval_ppl(longrope, hf_dir, tokens_path, t, workdir, f"table-{t}", "--method", f"table:{table}", "--runtime", "transformers")
        for layout in ("rope_scaling", "rope_parameters", "both"):
            model = os.path.join(workdir, f"rt-{layout}")
            if not os.path.exists(model):
                shutil.copytree(hf_dir, model)
                run([longrope, "export", "--table", table, "--format", "hf", "--config", os.path.join(model, "config.json"),
                     "--layout", layout])
            got = eval_ppl(longrope, model, tokens_path, t, workdir, f"hf-{layout}-{t}", "--method", "config", "--runtime", "transformers")
            check(got == want, f"round trip hf {layout}, T={t}: ppl {got!r} (table {want!r})")
        if base_gguf:
            want_gguf = eval_ppl(longrope, base_gguf, tokens_path, t, workdir, f"gguf-table-{t}", "--method", f"table:{table}",
                                 "--runtime", "llama.cpp")
            exported = os.path.join(workdir, "rt-longrope.gguf")
            if not os.path.exists(exported):
                run([longrope, "export", "--table", table, "--format", "gguf", "--gguf", base_gguf, "--out", exported])
            got = eval_ppl(longrope, exported, tokens_path, t, workdir, f"gguf-longrope-{t}", "--method", "config", "--runtime", "llama.cpp")
            check(got == want_gguf, f"round trip gguf longrope, T={t}: ppl {got!r} (table {want_gguf!r})")
    json_table, csv_table = os.path.join(workdir, "rt.json"), os.path.join(workdir, "rt.csv")
    run([longrope, "export", "--table", table, "--format", "json", "--out", json_table])
    run([longrope, "export", "--table", table, "--format", "csv", "--out", csv_table])
    want = eval_ppl(longrope, hf_dir, tokens_path, TARGET, workdir, "table-ours", "--method", f"table:{table}")
    got = eval_ppl(longrope, hf_dir, tokens_path, TARGET, workdir, "json", "--method", f"table:{json_table}")
    check(got == want, f"round trip json, T={TARGET}: ppl {got!r} (table {want!r})")
    # The CSV holds λ alone: the attention factor and s come back from the options.
    got = eval_ppl(longrope, hf_dir, tokens_path, TARGET, workdir, "csv", "--method", f"table:{csv_table}", "--scale", str(TARGET / L),
                   "--attention-factor", "1.25")
    check(got == want, f"round trip csv (with --scale and --attention-factor), T={TARGET}: ppl {got!r} (table {want!r})")
    if base_gguf:
        freqs = os.path.join(workdir, "rt-freqs.gguf")
        run([longrope, "export", "--table", table, "--format", "gguf", "--gguf", base_gguf, "--out", freqs, "--gguf-mode", "freqs"])
        want = eval_ppl(longrope, base_gguf, tokens_path, TARGET, workdir, "gguf-table-long", "--method", f"table:{table}")
        got = eval_ppl(longrope, freqs, tokens_path, TARGET, workdir, "gguf-freqs", "--method", "config")
        check(got == want, f"round trip gguf freqs (one table at every length), T={TARGET}: ppl {got!r} (table {want!r})")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--longrope", required=True)
    longrope = parser.parse_args().longrope
    print(f"transformers {transformers.__version__} (and 4.x from {TF4_PYTHON}), torch {torch.__version__}, "
          f"llama.cpp {lc.ENV['LLAMA_CPP_SRC']}", flush=True)
    with tempfile.TemporaryDirectory() as workdir:
        hf_dir = os.path.join(workdir, "hf")
        vocab_size = lc.write_checkpoint(hf_dir)
        table = lc.write_table(os.path.join(workdir, "table.json"), lc.LAMBDA, short=lc.SHORT)
        exported = os.path.join(workdir, "exported")
        shutil.copytree(hf_dir, exported)
        run([longrope, "export", "--table", table, "--format", "hf", "--config", os.path.join(exported, "config.json")])
        with open(os.path.join(exported, "config.json")) as f:
            config = json.load(f)
        check(config.get("original_max_position_embeddings") == L, "the hf export carries L at the top level (transformers 4.x)")
        tokens = np.random.default_rng(2).integers(3, vocab_size, TARGET)
        check_transformers(longrope, exported, tokens, workdir)

        base = os.path.join(workdir, "base.gguf")
        convert = subprocess.run([sys.executable, lc.ENV["LLAMA_CPP_CONVERT"], hf_dir, "--outtype", "f32", "--outfile", base],
                                 capture_output=True, text=True)
        check(convert.returncode == 0, "llama.cpp's convert_hf_to_gguf.py converts the checkpoint")
        if convert.returncode == 0:
            gguf_path = os.path.join(workdir, "longrope.gguf")
            run([longrope, "export", "--table", table, "--format", "gguf", "--gguf", base, "--out", gguf_path])
            check_llama_cpp(longrope, gguf_path, tokens, workdir)
        check_round_trips(longrope, hf_dir, base if convert.returncode == 0 else None, tokens, workdir)
    print(f"{len(failures)} failed" if failures else "all passed", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
