"""llama.cpp computes our exported GGUF as we do: the LongRoPE factors and attention factor take effect.

llama.cpp is the one vendored in PyPI's llama-cpp-python, built once by scripts/llama-cpp.sh (which
also installs the llama_cpp bindings against that build). A tiny random-weight LLaMA checkpoint
(transformers, fp32, a 259-token byte-fallback tokenizer made with `tokenizers`, trained length
L = 256) is converted to an f32 GGUF by llama.cpp's own convert_hf_to_gguf.py, and
`longrope export --format gguf` writes a factor table into it (s = 4, n̂ = 0). Then, on one random
token sequence, llama.cpp's logits (llama_cpp.Llama, f32 KV cache) must match `longrope forward` on
the HF checkpoint with the same table (in longrope mode also transformers', on the checkpoint after
`longrope export --format hf`):
  - the converted GGUF, unscaled, over 4L (the conversion itself is exact);
  - longrope mode, n_ctx = 4L: llama.cpp takes rope_factors_long (n_ctx_seq > L) for all positions;
  - longrope mode, n_ctx = L: rope_factors_short, still with the attention factor;
  - freqs mode (rope_freqs.weight) with the table's own attention factor 1.3.
Controls that must NOT match show the factors act: llama.cpp on the unexported file against ours with
the table, its long logits against ours unscaled and against ours with the attention factor forced to
1, its short logits against our long table, and freqs mode (a = 1.3) against ours with a = su.
Tolerance: both sides compute in f32 (weights, activations, KV cache) with different summation orders,
and ggml builds θ_i by repeated f32 products where we use f64 angles, so logits of magnitude ~6 agree
to ~1e-4 here; 1e-3 leaves room for other CPUs' ggml kernels. The controls differ by 3.6 to 7.3
(required: > 0.1).
Usage: llamacpp_check.py --longrope PATH/TO/longrope
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from ecosystem import require, run, unavailable  # noqa: E402

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts")
L, TARGET, HEAD_DIM, THETA = 256, 1024, 16, 10000.0
LAMBDA = [1.0, 1.0, 1.1, 1.4, 2.0, 3.1, 4.6, 5.5]  # non-decreasing, as the search keeps it
SHORT = [1.0, 1.0, 1.0, 1.02, 1.05, 1.1, 1.2, 1.3]
FREQS_ATTENTION = 1.3  # an explicit attention factor (not su) for the freqs-mode table
LOGIT_TOL = 1e-3       # max |Δlogit| for "the same computation"
CONTROL_MIN = 0.1      # max |Δlogit| a control must exceed
failures = []


def llama_cpp_env():
    """The KEY=VALUE lines of scripts/llama-cpp.sh --print-env (what is cached; builds nothing)."""
    proc = subprocess.run(["bash", os.path.join(SCRIPTS, "llama-cpp.sh"), "--print-env"], capture_output=True, text=True)
    if proc.returncode != 0:
        unavailable(f"llama.cpp ({proc.stderr.strip()})")
    return dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)


ENV = llama_cpp_env()
os.environ["LLAMA_CPP_LIB_PATH"] = ENV["LLAMA_CPP_LIB_PATH"]  # the build scripts/llama-cpp.sh made
require("torch", "transformers", "numpy", "tokenizers", "llama_cpp")

import llama_cpp  # noqa: E402
import numpy as np  # noqa: E402
import tokenizers  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402

transformers.utils.logging.disable_progress_bar()


def check(ok, what):
    print(f"{'ok  ' if ok else 'FAIL'} {what}", flush=True)
    if not ok:
        failures.append(what)


def max_diff(a, b):
    return float(np.abs(a - b).max())


def su(s, length):
    return math.sqrt(1 + math.log(s) / math.log(length))


# ---------------------------------------------------------------------------------------------------
# The checkpoint: transformers weights + a tokenizer llama.cpp's converter accepts.

def write_tokenizer(model_dir):
    """A Llama-2-style BPE with byte fallback and no merges: <unk> <s> </s> and the 256 bytes <0xNN>.

    The converter reads it as a "llama" (SentencePiece-like) vocabulary (LlamaHfVocab); we feed
    token ids directly, so only the vocabulary size matters to the comparison.
    """
    specials = ["<unk>", "<s>", "</s>"]
    vocab = {t: i for i, t in enumerate(specials)}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    tok = tokenizers.Tokenizer(tokenizers.models.BPE(vocab=vocab, merges=[], unk_token="<unk>", byte_fallback=True))
    tok.normalizer = tokenizers.normalizers.Sequence(
        [tokenizers.normalizers.Prepend("▁"), tokenizers.normalizers.Replace(" ", "▁")])
    tok.decoder = tokenizers.decoders.Sequence(
        [tokenizers.decoders.Replace("▁", " "), tokenizers.decoders.ByteFallback(), tokenizers.decoders.Fuse(),
         tokenizers.decoders.Strip(" ", 1, 0)])
    tok.add_special_tokens([tokenizers.AddedToken(t, special=True, normalized=False) for t in specials])
    tok.save(os.path.join(model_dir, "tokenizer.json"))
    with open(os.path.join(model_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<s>", "eos_token": "</s>",
                   "unk_token": "<unk>", "add_bos_token": False, "add_eos_token": False}, f)
    return len(vocab)


def write_checkpoint(model_dir):
    os.makedirs(model_dir)
    vocab_size = write_tokenizer(model_dir)
    torch.manual_seed(0)
    # initializer_range 0.15 (not 0.02): attention sharp enough that RoPE changes the logits visibly.
    config = transformers.LlamaConfig(
        vocab_size=vocab_size, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, head_dim=HEAD_DIM, max_position_embeddings=L, rope_theta=THETA, rms_norm_eps=1e-5,
        tie_word_embeddings=False, bos_token_id=1, eos_token_id=2, initializer_range=0.15)
    transformers.LlamaForCausalLM(config).eval().save_pretrained(model_dir)
    return vocab_size


def write_table(path, lam, short=None, attention_factor=None):
    table = {"format": "longrope-factor-table", "version": 1, "model": "tiny", "rope_base": THETA, "head_dim": HEAD_DIM,
             "original_length": L, "target_length": TARGET, "scale": TARGET / L, "lambda": lam, "start_tokens": 0,
             "attention_factor": attention_factor}
    if short:
        table["short_lambda"] = short
    with open(path, "w") as f:
        json.dump(table, f)
    return path


# ---------------------------------------------------------------------------------------------------
# The three runtimes.

def llama_cpp_logits(gguf_path, tokens, n_ctx):
    """llama.cpp's logits (T, V) for `tokens` at positions 0..T-1 in a context of n_ctx, and its metadata."""
    llm = llama_cpp.Llama(model_path=gguf_path, n_ctx=n_ctx, n_batch=n_ctx, n_ubatch=n_ctx, logits_all=True,
                          n_threads=2, n_threads_batch=2, type_k=llama_cpp.GGML_TYPE_F32,
                          type_v=llama_cpp.GGML_TYPE_F32, verbose=False)
    try:
        if llm.n_ctx() != n_ctx:
            raise RuntimeError(f"llama.cpp allocated n_ctx {llm.n_ctx()}, asked for {n_ctx}")
        llm.eval([int(t) for t in tokens])
        return np.array(llm.scores[:len(tokens)], dtype=np.float32), dict(llm.metadata)
    finally:
        llm.close()


def ours_logits(longrope, model_dir, tokens, workdir, name, *rope_args):
    tokens_path = os.path.join(workdir, f"tokens-{len(tokens)}.npy")
    np.save(tokens_path, np.asarray(tokens, dtype=np.int64))
    out = os.path.join(workdir, f"ours-{name}.npy")
    run([longrope, "forward", "--model", model_dir, "--tokens", tokens_path, "--out", out, "--threads", "2", *rope_args])
    return np.load(out)


def transformers_logits(model_dir, tokens):
    model = transformers.LlamaForCausalLM.from_pretrained(model_dir).eval()
    with torch.no_grad():
        return model(torch.as_tensor(tokens, dtype=torch.long).unsqueeze(0)).logits[0].float().numpy()


# ---------------------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--longrope", required=True)
    args = parser.parse_args()
    longrope = args.longrope
    from importlib.metadata import version
    print(f"llama-cpp-python {version('llama_cpp_python')} (llama.cpp {ENV['LLAMA_CPP_SRC']}), "
          f"transformers {transformers.__version__}, torch {torch.__version__}", flush=True)
    with tempfile.TemporaryDirectory() as workdir:
        hf_dir = os.path.join(workdir, "hf")
        vocab_size = write_checkpoint(hf_dir)
        base = os.path.join(workdir, "base.gguf")
        convert = subprocess.run([sys.executable, ENV["LLAMA_CPP_CONVERT"], hf_dir, "--outtype", "f32", "--outfile", base],
                                 capture_output=True, text=True)
        check(convert.returncode == 0, "llama.cpp's convert_hf_to_gguf.py converts the checkpoint to an f32 GGUF")
        if convert.returncode != 0:
            print(convert.stdout[-3000:], convert.stderr[-3000:], flush=True)
            sys.exit(1)

        tokens = np.random.default_rng(1).integers(3, vocab_size, TARGET - 24)  # T = 1000 > L
        short_tokens = tokens[:L]

        # The conversion alone: llama.cpp on the converted file = our unscaled forward.
        theirs, _ = llama_cpp_logits(base, tokens, TARGET)
        ours_none = ours_logits(longrope, hf_dir, tokens, workdir, "none", "--method", "none")
        d = max_diff(theirs, ours_none)
        check(d < LOGIT_TOL, f"converted GGUF, no scaling, T={len(tokens)}: llama.cpp vs ours max|Δlogit| {d:.1e}")
        table = write_table(os.path.join(workdir, "table.json"), LAMBDA, short=SHORT)
        ours_long = ours_logits(longrope, hf_dir, tokens, workdir, "long", "--method", f"table:{table}")
        d = max_diff(theirs, ours_long)
        check(d > CONTROL_MIN, f"control: llama.cpp on the unexported GGUF vs ours with the table differ, "
                               f"max|Δlogit| {d:.2f}")

        # longrope mode.
        exported = os.path.join(workdir, "longrope.gguf")
        run([longrope, "export", "--table", table, "--format", "gguf", "--gguf", base, "--out", exported])
        a = su(TARGET / L, L)
        long_cpp, meta = llama_cpp_logits(exported, tokens, TARGET)
        got_a = float(meta.get("llama.rope.scaling.attn_factor", "nan"))
        check(meta.get("llama.rope.scaling.type") == "longrope" and abs(got_a - a) < 1e-6,
              f"llama.cpp reads scaling type {meta.get('llama.rope.scaling.type')}, attn_factor {got_a:.6f} "
              f"(ours: su = {a:.6f})")
        d = max_diff(long_cpp, ours_long)
        check(d < LOGIT_TOL, f"longrope mode, n_ctx={TARGET} (long factors), T={len(tokens)}: llama.cpp vs ours "
                             f"max|Δlogit| {d:.1e}")
        d = max_diff(long_cpp, ours_none)
        check(d > CONTROL_MIN, f"control: llama.cpp long vs ours unscaled differ, max|Δlogit| {d:.2f}")
        ours_a1 = ours_logits(longrope, hf_dir, tokens, workdir, "long-a1", "--method", f"table:{table}",
                              "--attention-factor", "1")
        d = max_diff(long_cpp, ours_a1)
        check(d > CONTROL_MIN, f"control: llama.cpp long vs ours with attention factor 1 differ, max|Δlogit| {d:.2f} "
                               f"(llama.cpp applies a = {a:.4f})")

        # The same table through config.json: transformers as a second reference, and ours for the short table.
        hf_export = os.path.join(workdir, "hf-longrope")
        shutil.copytree(hf_dir, hf_export)
        run([longrope, "export", "--table", table, "--format", "hf", "--config", os.path.join(hf_export, "config.json")])
        d = max_diff(long_cpp, transformers_logits(hf_export, tokens))
        check(d < LOGIT_TOL, f"longrope mode, long: llama.cpp vs transformers (exported config.json) "
                             f"max|Δlogit| {d:.1e}")
        short_cpp, _ = llama_cpp_logits(exported, short_tokens, L)
        ours_short = ours_logits(longrope, hf_export, short_tokens, workdir, "short", "--method", "config")
        d = max_diff(short_cpp, ours_short)
        check(d < LOGIT_TOL, f"longrope mode, n_ctx={L} (short factors), T={L}: llama.cpp vs ours (config.json "
                             f"short_factor) max|Δlogit| {d:.1e}")
        d = max_diff(short_cpp, transformers_logits(hf_export, short_tokens))
        check(d < LOGIT_TOL, f"longrope mode, short: llama.cpp vs transformers max|Δlogit| {d:.1e}")
        d = max_diff(short_cpp, ours_long[:L])
        check(d > CONTROL_MIN, f"control: llama.cpp short vs ours with the long factors differ, max|Δlogit| {d:.2f}")

        # freqs mode: one static table, here with an explicit attention factor.
        freqs_table = write_table(os.path.join(workdir, "freqs-table.json"), LAMBDA, attention_factor=FREQS_ATTENTION)
        freqs = os.path.join(workdir, "freqs.gguf")
        run([longrope, "export", "--table", freqs_table, "--format", "gguf", "--gguf", base, "--out", freqs,
             "--gguf-mode", "freqs"])
        freqs_cpp, meta = llama_cpp_logits(freqs, tokens, TARGET)
        got_a = float(meta.get("llama.rope.scaling.attn_factor", "nan"))
        check(abs(got_a - FREQS_ATTENTION) < 1e-6, f"freqs mode: llama.cpp reads attn_factor {got_a:.6f} "
                                                   f"(table: {FREQS_ATTENTION})")
        ours_freqs = ours_logits(longrope, hf_dir, tokens, workdir, "freqs", "--method", f"table:{freqs_table}")
        d = max_diff(freqs_cpp, ours_freqs)
        check(d < LOGIT_TOL, f"freqs mode, T={len(tokens)}: llama.cpp vs ours max|Δlogit| {d:.1e}")
        d = max_diff(freqs_cpp, ours_long)
        check(d > CONTROL_MIN, f"control: freqs mode (a = {FREQS_ATTENTION}) vs ours with a = su {a:.4f} differ, "
                               f"max|Δlogit| {d:.2f}")
    print(f"{len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
