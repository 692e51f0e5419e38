"""Our logits and perplexity against transformers' LlamaForCausalLM on the same checkpoint.

For each case a tiny random model is saved with save_pretrained (float32 safetensors, the layout
users have), then `longrope forward` (logits) and `longrope eval` (perplexity) must agree with
transformers to the tolerance below, including under the checkpoint's own rope_scaling.
Usage: transformers_parity.py --longrope PATH/TO/longrope
"""
import argparse
import json
import math
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from ecosystem import require, run  # noqa: E402

require("torch", "transformers", "numpy")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402

transformers.utils.logging.disable_progress_bar()

LOGIT_TOL = 1e-4  # fp32, max absolute difference
PPL_RTOL = 1e-5


def longrope_tables(n, seed):
    g = torch.Generator().manual_seed(seed)
    short = torch.sort(1.0 + torch.rand(n, generator=g) * 0.5).values
    long = torch.sort(1.0 + torch.rand(n, generator=g) * 6.0).values
    return short.tolist(), long.tolist()


def cases():
    base = dict(vocab_size=320, hidden_size=64, intermediate_size=160, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-5, rope_theta=10000.0,
                tie_word_embeddings=False, bos_token_id=1, eos_token_id=2)
    short, long = longrope_tables(8, 3)  # head_dim 16 -> 8 factors
    yield "plain", dict(base), 96
    yield "tied+bias", dict(base, tie_word_embeddings=True, attention_bias=True, mlp_bias=True), 80
    yield "mha", dict(base, num_key_value_heads=4, rope_theta=500.0), 72
    yield "linear", dict(base, rope_scaling={"rope_type": "linear", "factor": 4.0}), 128
    yield "dynamic", dict(base, rope_scaling={"rope_type": "dynamic", "factor": 2.0}), 150
    yield "yarn", dict(base, max_position_embeddings=256,
                       rope_scaling={"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 64}), 200
    yield "longrope-long", dict(base, max_position_embeddings=512,
                                rope_scaling={"rope_type": "longrope", "short_factor": short, "long_factor": long,
                                              "original_max_position_embeddings": 64}), 160
    yield "longrope-short", dict(base, max_position_embeddings=512,
                                 rope_scaling={"rope_type": "longrope", "short_factor": short, "long_factor": long,
                                               "original_max_position_embeddings": 64}), 48


def check_case(longrope, name, kwargs, length, workdir):
    torch.manual_seed(0)
    config = transformers.LlamaConfig(**kwargs)
    model = transformers.LlamaForCausalLM(config).eval()
    with torch.no_grad():  # larger weights than the default init, so differences show
        for pname, p in model.named_parameters():
            if p.dim() > 1:
                p.normal_(0.0, 0.08)
            elif "norm" in pname:
                p.uniform_(0.5, 1.5)
            else:
                p.normal_(0.0, 0.05)  # biases
    directory = os.path.join(workdir, name)
    model.save_pretrained(directory, safe_serialization=True)
    ids = torch.randint(3, config.vocab_size, (length,), generator=torch.Generator().manual_seed(7))
    np.save(os.path.join(directory, "tokens.npy"), ids.numpy().astype(np.int64))
    with torch.no_grad():
        out = model(ids.unsqueeze(0), labels=ids.unsqueeze(0))
    theirs = out.logits[0].float().numpy()

    ours_path = directory + "-ours.npy"  # beside the model: nothing is written inside a model directory being read
    run([longrope, "forward", "--model", directory, "--tokens", os.path.join(directory, "tokens.npy"),
         "--out", ours_path, "--method", "config", "--threads", "2"])
    ours = np.load(ours_path)
    diff = float(np.abs(ours - theirs).max())

    eval_json = directory + "-eval.json"
    run([longrope, "eval", "--model", directory, "--data", os.path.join(directory, "tokens.npy"), "--length", str(length),
         "--docs", "1", "--bos", "none", "--method", "config", "--json", eval_json, "--threads", "2"])
    ours_ppl = json.load(open(eval_json))["ppl"]
    their_ppl = math.exp(out.loss.item())
    ok = diff <= LOGIT_TOL and abs(ours_ppl - their_ppl) <= PPL_RTOL * their_ppl
    print(f"{'ok  ' if ok else 'FAIL'} {name:<15} T={length:<4} max|Δlogit|={diff:.2e} ppl ours={ours_ppl:.6f} "
          f"transformers={their_ppl:.6f}", flush=True)
    return ok


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--longrope", required=True)
    args = parser.parse_args()
    print(f"transformers {transformers.__version__}, torch {torch.__version__}; tolerance {LOGIT_TOL} on logits (fp32)")
    with tempfile.TemporaryDirectory() as workdir:
        results = [check_case(args.longrope, *case, workdir) for case in cases()]
    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
