"""`longrope export` output loads in transformers and gguf-py and means what our table means.

config.json: a tiny model from `longrope init-model` gets a searched-style table with
`longrope export --format hf` in each layout; transformers' AutoConfig and
LlamaForCausalLM.from_pretrained must load it unchanged, and the rotary embedding it builds for a
long sequence must have inv_freq_i = 1 / (λ_i · b^(2i/d)) and attention factor
sqrt(1 + ln s / ln L) (short factors up to L); our logits on the exported model (`longrope forward
--method config`) must match transformers' beyond L.
GGUF: a small llama-architecture file written with gguf-py's GGUFWriter is exported into in both
modes; gguf-py's GGUFReader must read every original tensor back byte-identical, the new factor
tensors and keys with our values, and the scaling factor key gone.
Usage: export_check.py --longrope PATH/TO/longrope
"""
import argparse
import json
import math
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from ecosystem import require, run  # noqa: E402

require("torch", "transformers", "numpy", "gguf")

import gguf  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402

transformers.utils.logging.disable_progress_bar()

L, TARGET, HEAD_DIM, THETA = 128, 1024, 16, 500.0
LAMBDA = [1.0, 1.0, 1.08, 1.5, 2.6, 4.3, 6.9, 8.8]  # non-decreasing, as the search keeps it
SHORT = [1.0, 1.0, 1.0, 1.02, 1.05, 1.1, 1.2, 1.25]
LOGIT_TOL = 1e-4
failures = []


def check(ok, what):
    print(f"{'ok  ' if ok else 'FAIL'} {what}", flush=True)
    if not ok:
        failures.append(what)


def su(s, length):
    return math.sqrt(1 + math.log(s) / math.log(length)) if s > 1 else 1.0


def expected_inv_freq(factors):
    i = np.arange(0, HEAD_DIM, 2, dtype=np.float64) / HEAD_DIM
    return 1.0 / (np.array(factors, dtype=np.float64) * THETA ** i)


def write_table(path, short=None, start_tokens=0):
    table = {"format": "longrope-factor-table", "version": 1, "model": "tiny", "rope_base": THETA, "head_dim": HEAD_DIM,
             "original_length": L, "target_length": TARGET, "scale": TARGET / L, "lambda": LAMBDA,
             "start_tokens": start_tokens, "attention_factor": None}
    if short:
        table["short_lambda"] = short
    with open(path, "w") as f:
        json.dump(table, f)


def check_hf(longrope, workdir):
    config = dict(architectures=["LlamaForCausalLM"], model_type="llama", vocab_size=96, hidden_size=64,
                  intermediate_size=128, num_hidden_layers=1, num_attention_heads=4, num_key_value_heads=2,
                  max_position_embeddings=L, rope_theta=THETA, tie_word_embeddings=False, rms_norm_eps=1e-5)
    cfg_path = os.path.join(workdir, "shape.json")
    with open(cfg_path, "w") as f:
        json.dump(config, f)
    base = os.path.join(workdir, "base")
    run([longrope, "init-model", "--config", cfg_path, "--out", base, "--seed", "3"])
    table = os.path.join(workdir, "table.json")
    write_table(table, short=SHORT)
    a = su(TARGET / L, L)
    for layout in ["rope_scaling", "rope_parameters", "both"]:
        model_dir = os.path.join(workdir, f"hf-{layout}")
        shutil.copytree(base, model_dir)
        run([longrope, "export", "--table", table, "--format", "hf", "--config", os.path.join(model_dir, "config.json"),
             "--layout", layout])
        cfg = transformers.AutoConfig.from_pretrained(model_dir)
        params = cfg.rope_parameters
        check(params["rope_type"] == "longrope" and params["long_factor"] == LAMBDA and params["short_factor"] == SHORT
              and params["original_max_position_embeddings"] == L and cfg.max_position_embeddings == TARGET
              and params["rope_theta"] == THETA, f"{layout}: AutoConfig reads the longrope block")
        model = transformers.LlamaForCausalLM.from_pretrained(model_dir).eval()
        rope = model.model.rotary_emb
        x = torch.zeros(1, 1, HEAD_DIM)
        for name, length, factors in [("long", TARGET, LAMBDA), ("short", L, SHORT)]:
            positions = torch.arange(length).unsqueeze(0)
            with torch.no_grad():
                cos, sin = rope(x, positions)
            want = expected_inv_freq(factors)
            got = rope.inv_freq.double().numpy()
            inv_ok = np.allclose(got, want, rtol=2e-7, atol=0)
            angles = np.arange(length, dtype=np.float64)[:, None] * want[None, :]
            want_cos = np.concatenate([np.cos(angles), np.cos(angles)], axis=1) * a
            cos_diff = float(np.abs(cos[0].double().numpy() - want_cos).max())
            check(inv_ok and abs(rope.attention_scaling - a) < 1e-12 and cos_diff < 2e-4,
                  f"{layout}: {name} (T={length}) inv_freq = 1/(λ·b^(2i/d)) max rel err "
                  f"{float(np.abs(got / want - 1).max()):.1e}, attention factor {rope.attention_scaling:.6f} "
                  f"(want {a:.6f}), max|Δcos| {cos_diff:.1e}")
        if layout == "both":
            ids = torch.randint(3, config["vocab_size"], (300,), generator=torch.Generator().manual_seed(5))
            np.save(os.path.join(model_dir, "tokens.npy"), ids.numpy().astype(np.int64))
            with torch.no_grad():
                theirs = model(ids.unsqueeze(0)).logits[0].float().numpy()
            ours_path = model_dir + "-ours.npy"  # beside the model: nothing is written inside a model directory being read
            run([longrope, "forward", "--model", model_dir, "--tokens", os.path.join(model_dir, "tokens.npy"),
                 "--out", ours_path, "--method", "config", "--threads", "2"])
            diff = float(np.abs(np.load(ours_path) - theirs).max())
            check(diff <= LOGIT_TOL, f"{layout}: our logits on the exported model vs transformers, T=300 > L: "
                                     f"max|Δlogit| {diff:.1e}")


def field_value(reader, key):
    field = reader.fields.get(key)
    return None if field is None else field.contents()


def check_gguf(longrope, workdir):
    rng = np.random.default_rng(0)
    src = os.path.join(workdir, "in.gguf")
    w = gguf.GGUFWriter(src, "llama")
    w.add_name("tiny")
    w.add_context_length(L)
    w.add_embedding_length(64)
    w.add_head_count(4)
    w.add_rope_dimension_count(HEAD_DIM)
    w.add_rope_freq_base(THETA)
    w.add_rope_scaling_factor(4.0)  # must go: llama.cpp would divide θ by it on top of λ
    w.add_array("tokenizer.ggml.tokens", ["<s>", "a", "b"])
    w.add_array("tokenizer.ggml.scores", [0.0, -1.0, -2.0])
    tensors = {
        "token_embd.weight": (rng.standard_normal((10, 64)).astype(np.float16), None),
        "blk.0.attn_q.weight": (gguf.quants.quantize(rng.standard_normal((64, 64)).astype(np.float32),
                                                     gguf.GGMLQuantizationType.Q8_0), gguf.GGMLQuantizationType.Q8_0),
        "blk.0.ffn_down.weight": (rng.integers(0, 256, (2, 144), dtype=np.uint8), gguf.GGMLQuantizationType.Q4_K),
        "output_norm.weight": (rng.standard_normal(64).astype(np.float32), None),
    }
    for name, (data, raw_dtype) in tensors.items():
        w.add_tensor(name, data, raw_dtype=raw_dtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    table = os.path.join(workdir, "gguf-table.json")
    write_table(table)
    a = np.float32(su(TARGET / L, L))
    original = gguf.GGUFReader(src)
    for mode in ["longrope", "freqs"]:
        out = os.path.join(workdir, f"out-{mode}.gguf")
        run([longrope, "export", "--table", table, "--format", "gguf", "--gguf", src, "--out", out, "--gguf-mode", mode])
        r = gguf.GGUFReader(out)
        by_name = {t.name: t for t in r.tensors}
        same = all(t.name in by_name and by_name[t.name].tensor_type == t.tensor_type
                   and list(by_name[t.name].shape) == list(t.shape)
                   and by_name[t.name].data.tobytes() == t.data.tobytes() for t in original.tensors)
        check(same, f"{mode}: gguf-py reads all {len(original.tensors)} original tensors back byte-identical "
                    f"(F16, Q8_0, Q4_K, F32)")
        kept = all(k in r.fields and field_value(r, k) == field_value(original, k) for k in original.fields
                   if k not in ("llama.context_length", "llama.rope.scaling.factor") and not k.startswith("GGUF."))
        check(kept, f"{mode}: every other key keeps its value")
        check("llama.rope.scaling.factor" not in r.fields and field_value(r, "llama.context_length") == TARGET
              and np.float32(field_value(r, "llama.rope.scaling.attn_factor")) == a,
              f"{mode}: context_length {field_value(r, 'llama.context_length')}, attn_factor "
              f"{field_value(r, 'llama.rope.scaling.attn_factor')}, no rope.scaling.factor")
        if mode == "longrope":
            long_t, short_t = by_name.get("rope_factors_long.weight"), by_name.get("rope_factors_short.weight")
            ok = (long_t is not None and short_t is not None
                  and long_t.tensor_type == gguf.GGMLQuantizationType.F32 and list(long_t.shape) == [HEAD_DIM // 2]
                  and np.array_equal(long_t.data, np.array(LAMBDA, dtype=np.float32))
                  and np.array_equal(short_t.data, np.ones(HEAD_DIM // 2, dtype=np.float32))
                  and field_value(r, "llama.rope.scaling.type") == "longrope"
                  and field_value(r, "llama.rope.scaling.original_context_length") == L
                  and r.fields["llama.rope.scaling.original_context_length"].types == [gguf.GGUFValueType.UINT32])
            check(ok, "longrope: rope_factors_long/short.weight F32 [n_rot/2] = λ / ones, scaling.type longrope, "
                      f"original_context_length {L} (UINT32)")
        else:
            freqs = by_name.get("rope_freqs.weight")
            ok = (freqs is not None and list(freqs.shape) == [HEAD_DIM // 2]
                  and np.array_equal(freqs.data, np.array(LAMBDA, dtype=np.float32))
                  and "rope_factors_long.weight" not in by_name and field_value(r, "llama.rope.scaling.type") == "none"
                  and field_value(r, "llama.rope.scaling.original_context_length") == L)
            check(ok, f"freqs: rope_freqs.weight F32 [n_rot/2] = λ, scaling.type none, no long/short tensors, "
                      f"original_context_length {L}")
    # Re-exporting into an exported file replaces the factors instead of adding a second set.
    again = os.path.join(workdir, "again.gguf")
    run([longrope, "export", "--table", table, "--format", "gguf", "--gguf", os.path.join(workdir, "out-longrope.gguf"),
         "--out", again, "--gguf-mode", "freqs"])
    names = [t.name for t in gguf.GGUFReader(again).tensors]
    check(sorted(names) == sorted(list(tensors) + ["rope_freqs.weight"]),
          "longrope → freqs re-export: the long/short tensors are replaced by rope_freqs.weight")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--longrope", required=True)
    args = parser.parse_args()
    from importlib.metadata import version
    print(f"transformers {transformers.__version__}, gguf-py {version('gguf')}, torch {torch.__version__}")
    with tempfile.TemporaryDirectory() as workdir:
        check_hf(args.longrope, workdir)
        check_gguf(args.longrope, workdir)
    print(f"{len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
