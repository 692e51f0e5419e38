"""GGUF checkpoints as `--model`: our logits equal transformers' on the same dequantized weights.

1. SmolLM2-135M-Instruct (Q4_1 + Q8_0 + F32, the GGUF scripts/get-smollm2.sh caches): transformers'
   LlamaForCausalLM.from_pretrained(gguf_file=...) dequantizes it with gguf-py and undoes llama.cpp's
   Q/K permutation on its own; `longrope forward --model FILE.gguf` must give the same logits on a
   few hundred tokens of prose (tolerance below: float32 sums of 30 layers, logits of magnitude ~40).
2. A random tiny LLaMA written by gguf-py with a different storage type per tensor (F32, F16, BF16,
   Q8_0, Q4_0, Q4_1, Q5_0, Q5_1) and Q/K permuted the way llama.cpp's converter does: same check.
Usage: gguf_model_check.py --longrope PATH/TO/longrope
"""
import argparse
import os

os.environ.setdefault("TQDM_DISABLE", "1")  # transformers' GGUF loader draws progress bars
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from ecosystem import require, run, unavailable  # noqa: E402

require("torch", "transformers", "accelerate", "numpy", "gguf")

import gguf  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402

transformers.utils.logging.disable_progress_bar()
transformers.utils.logging.set_verbosity_error()
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SMOL_TOL = 5e-4   # measured ~8e-5 (max |logit| ~42)
TINY_TOL = 1e-4
failures = []


def check(ok, what):
    print(f"{'ok  ' if ok else 'FAIL'} {what}", flush=True)
    if not ok:
        failures.append(what)


def our_logits(longrope, model, ids, work):
    np.save(os.path.join(work, "ids.npy"), np.array(ids, dtype=np.int64))
    out = os.path.join(work, "logits.npy")
    run([longrope, "forward", "--model", model, "--tokens", os.path.join(work, "ids.npy"), "--out", out, "--threads", "2"])
    return np.load(out)


def hf_logits(path, ids):
    model = transformers.AutoModelForCausalLM.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path),
                                                              dtype=torch.float32)
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].numpy()


def smollm2_file():
    proc = subprocess.run([os.path.join(REPO, "scripts", "get-smollm2.sh")], capture_output=True, text=True)
    if proc.returncode != 0:
        unavailable("SmolLM2 GGUF (scripts/get-smollm2.sh: " + proc.stderr.strip().splitlines()[-1] + ")")
    return proc.stdout.strip()


def check_smollm2(longrope, work):
    path = smollm2_file()
    tokenizer = transformers.AutoTokenizer.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path))
    text = ("It is a truth universally acknowledged, that a single man in possession of a good fortune, "
            "must be in want of a wife. However little known the feelings or views of such a man may be ") * 6
    ids = tokenizer(text)["input_ids"]
    diff = float(np.abs(our_logits(longrope, path, ids, work) - hf_logits(path, ids)).max())
    check(diff < SMOL_TOL, f"SmolLM2-135M Q4_1 GGUF: {len(ids)} tokens, max |Δlogit| {diff:.2e} (tolerance {SMOL_TOL})")


def permute(w, heads):
    """llama.cpp's converter order for Q/K rows: within a head, row half*D/2 + j goes to 2j + half."""
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def check_tiny_mixed_types(longrope, work):
    torch.manual_seed(0)
    cfg = transformers.LlamaConfig(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                   num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                                   rope_theta=10000.0, rms_norm_eps=1e-5, tie_word_embeddings=False)
    model = transformers.LlamaForCausalLM(cfg).eval()
    for p in model.parameters():
        if p.dim() == 1:
            p.data.normal_(0, 1.0).abs_()  # norms away from 1, so that their storage matters too
        else:
            p.data.normal_(0, 0.05)
    q = gguf.GGMLQuantizationType
    types = [q.F32, q.F16, q.BF16, q.Q8_0, q.Q4_0, q.Q4_1, q.Q5_0, q.Q5_1]
    path = os.path.join(work, "tiny-mixed.gguf")
    w = gguf.GGUFWriter(path, "llama")
    w.add_context_length(128)
    w.add_embedding_length(64)
    w.add_feed_forward_length(128)
    w.add_block_count(2)
    w.add_head_count(4)
    w.add_head_count_kv(2)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(10000.0)
    w.add_vocab_size(256)
    w.add_tokenizer_model("gpt2")  # transformers wants a vocabulary in the file; ours ignores it here
    byte_tokens = [bytes([b]).decode("latin-1") for b in range(256)]
    w.add_token_list(byte_tokens)
    w.add_token_merges([])
    names = {"embed_tokens": "token_embd", "norm": "output_norm", "lm_head": "output", "input_layernorm": "attn_norm",
             "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
             "self_attn.o_proj": "attn_output", "post_attention_layernorm": "ffn_norm", "mlp.gate_proj": "ffn_gate",
             "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down"}
    used = set()
    for i, (hf, t) in enumerate(model.state_dict().items()):
        base = hf.removeprefix("model.").removesuffix(".weight")
        layer = ""
        if base.startswith("layers."):
            _, n, base = base.split(".", 2)
            layer = f"blk.{n}."
        name = layer + names[base] + ".weight"
        a = t.numpy().astype(np.float32)
        if base == "self_attn.q_proj":
            a = permute(a, 4)
        if base == "self_attn.k_proj":
            a = permute(a, 2)
        qtype = q.F32 if a.ndim == 1 else types[i % len(types)]
        used.add(qtype.name)
        data = a if qtype == q.F32 else gguf.quants.quantize(a, qtype)
        w.add_tensor(name, data, raw_dtype=None if qtype == q.F32 else qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    ids = [int(x) for x in np.random.default_rng(1).integers(0, 256, 100)]
    diff = float(np.abs(our_logits(longrope, path, ids, work) - hf_logits(path, ids)).max())
    check(diff < TINY_TOL, f"tiny LLaMA with {', '.join(sorted(used))} tensors: max |Δlogit| {diff:.2e} (tolerance {TINY_TOL})")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--longrope", required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        check_tiny_mixed_types(args.longrope, work)
        check_smollm2(args.longrope, work)
    if failures:
        print(f"{len(failures)} check(s) failed", flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
