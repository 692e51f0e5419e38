"""Our logits and perplexity against transformers' Llama, Phi-3 and Qwen2 causal LMs on the same checkpoint.

For each case a tiny random model is saved with save_pretrained (float32 safetensors, the layout
users have; sharded for one case), then `longrope forward` (logits) and `longrope eval` (perplexity)
must agree with transformers to the tolerance below, including under the checkpoint's own
rope_scaling (Llama 3.1's llama3, Phi-3's longrope on both sides of its original length, YaRN with
DeepSeek's mscale pair), Phi-3's fused qkv_proj/gate_up_proj and partial rotary embedding, and Qwen2's
sliding-window switch. Where a case says so, `longrope convert`
writes the model back and transformers must load that copy and give the same logits.
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


FAMILIES = {"llama": (transformers.LlamaConfig, transformers.LlamaForCausalLM),
            "phi3": (transformers.Phi3Config, transformers.Phi3ForCausalLM),
            "qwen2": (transformers.Qwen2Config, transformers.Qwen2ForCausalLM)}


def cases():
    """(name, family, config kwargs, sequence lengths, options): options may ask for shards or a convert."""
    base = dict(vocab_size=320, hidden_size=64, intermediate_size=160, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-5, rope_theta=10000.0,
                tie_word_embeddings=False, bos_token_id=1, eos_token_id=2)
    short, long = longrope_tables(8, 3)  # head_dim 16 -> 8 factors
    yield "plain", "llama", dict(base), [96], {}
    yield "tied+bias", "llama", dict(base, tie_word_embeddings=True, attention_bias=True, mlp_bias=True), [80], {}
    yield "mha", "llama", dict(base, num_key_value_heads=4, rope_theta=500.0), [72], {}
    yield "linear", "llama", dict(base, rope_scaling={"rope_type": "linear", "factor": 4.0}), [128], {}
    yield "dynamic", "llama", dict(base, rope_scaling={"rope_type": "dynamic", "factor": 2.0}), [150], {}
    yield "yarn", "llama", dict(base, max_position_embeddings=256,
                                rope_scaling={"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 64}), [200], {}
    # DeepSeek-style YaRN: mscale and mscale_all_dim without attention_factor set the attention factor.
    yield "yarn-mscale", "llama", dict(base, max_position_embeddings=256,
                                       rope_scaling={"rope_type": "yarn", "factor": 4.0, "mscale": 1.0, "mscale_all_dim": 0.5,
                                                     "original_max_position_embeddings": 64}), [200], {"convert": True}
    # Qwen2: q/k/v biases; a sliding_window without use_sliding_window does not slide, with it (and
    # max_window_layers 0) every layer does.
    yield "qwen2", "qwen2", dict(base, sliding_window=48), [96], {}
    yield "qwen2-window", "qwen2", dict(base, sliding_window=48, use_sliding_window=True, max_window_layers=0), [96], {"convert": True}
    yield "longrope-long", "llama", dict(base, max_position_embeddings=512,
                                         rope_scaling={"rope_type": "longrope", "short_factor": short, "long_factor": long,
                                                       "original_max_position_embeddings": 64}), [160], {}
    yield "longrope-short", "llama", dict(base, max_position_embeddings=512,
                                          rope_scaling={"rope_type": "longrope", "short_factor": short, "long_factor": long,
                                                        "original_max_position_embeddings": 64}), [48], {}
    # Llama 3.1's rule at L = 64: wavelengths below 16 kept (pair 0), above 64 divided by 8 (pairs 3..7),
    # pairs 1 and 2 blended; beyond L as Llama 3.1 runs (max_position_embeddings is the extended length).
    yield "llama3", "llama", dict(base, max_position_embeddings=512,
                                  rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                                "high_freq_factor": 4.0, "original_max_position_embeddings": 64}), [160], {"convert": True}
    # Phi-3: fused qkv_proj and gate_up_proj, L at the top level, longrope's short factors up to L and long ones beyond.
    phi3 = dict(base, original_max_position_embeddings=64, pad_token_id=0)  # Phi3Config's pad id 32000 is past this vocabulary
    yield "phi3", "phi3", dict(phi3), [96], {}
    yield "phi3-partial", "phi3", dict(phi3, partial_rotary_factor=0.5), [80], {}
    yield "phi3-longrope", "phi3", dict(phi3, max_position_embeddings=512,
                                        rope_scaling={"rope_type": "longrope", "short_factor": short, "long_factor": long}), [64, 65], {}
    # Phi-4-mini's shape: 3/4 of each head rotated (6 factors of head_dim 16), tied embeddings, longrope.
    short6, long6 = longrope_tables(6, 5)
    yield "phi4-mini-like", "phi3", dict(phi3, max_position_embeddings=512, partial_rotary_factor=0.75, tie_word_embeddings=True,
                                         rope_scaling={"rope_type": "longrope", "short_factor": short6, "long_factor": long6}), \
        [64, 65], {"convert": True}
    yield "phi3-sharded", "phi3", dict(phi3, sliding_window=48), [96], {"max_shard_size": "20KB", "convert": True}


def check_case(longrope, name, family, kwargs, lengths, options, workdir):
    torch.manual_seed(0)
    config_class, model_class = FAMILIES[family]
    config = config_class(**kwargs)
    model = model_class(config).eval()
    with torch.no_grad():  # larger weights than the default init, so differences show
        for pname, p in model.named_parameters():
            if p.dim() > 1:
                p.normal_(0.0, 0.08)
            elif "norm" in pname:
                p.uniform_(0.5, 1.5)
            else:
                p.normal_(0.0, 0.05)  # biases
    directory = os.path.join(workdir, name)
    model.save_pretrained(directory, safe_serialization=True, max_shard_size=options.get("max_shard_size", "50GB"))
    if "max_shard_size" in options and not os.path.exists(os.path.join(directory, "model.safetensors.index.json")):
        print(f"FAIL {name}: save_pretrained wrote no shards", flush=True)
        return [False]
    results = []
    for length in lengths:
        ids = torch.randint(3, config.vocab_size, (length,), generator=torch.Generator().manual_seed(7))
        tokens = os.path.join(directory, f"tokens-{length}.npy")
        np.save(tokens, ids.numpy().astype(np.int64))
        with torch.no_grad():
            out = model(ids.unsqueeze(0), labels=ids.unsqueeze(0))
        theirs = out.logits[0].float().numpy()

        ours_path = f"{directory}-ours-{length}.npy"  # beside the model: nothing is written inside a model directory being read
        run([longrope, "forward", "--model", directory, "--tokens", tokens, "--out", ours_path, "--method", "config",
             "--threads", "2"])
        diff = float(np.abs(np.load(ours_path) - theirs).max())

        eval_json = f"{directory}-eval-{length}.json"
        run([longrope, "eval", "--model", directory, "--data", tokens, "--length", str(length),
             "--docs", "1", "--bos", "none", "--method", "config", "--json", eval_json, "--threads", "2"])
        ours_ppl = json.load(open(eval_json))["ppl"]
        their_ppl = math.exp(out.loss.item())
        ok = diff <= LOGIT_TOL and abs(ours_ppl - their_ppl) <= PPL_RTOL * their_ppl
        print(f"{'ok  ' if ok else 'FAIL'} {name:<15} T={length:<4} max|Δlogit|={diff:.2e} ppl ours={ours_ppl:.6f} "
              f"transformers={their_ppl:.6f}", flush=True)
        results.append(ok)
    if options.get("convert"):
        results.append(check_convert(longrope, name, model_class, model, directory, lengths[-1]))
    return results


def check_convert(longrope, name, model_class, model, directory, length):
    """`longrope convert` writes the model back (float32); transformers loads the copy to the same logits."""
    copy = directory + "-converted"
    run([longrope, "convert", "--model", directory, "--out", copy, "--dtype", "f32"])
    reloaded = model_class.from_pretrained(copy).eval()
    ids = torch.randint(3, model.config.vocab_size, (1, length), generator=torch.Generator().manual_seed(11))
    with torch.no_grad():
        diff = float((reloaded(ids).logits - model(ids).logits).abs().max())
    stored = sorted(json.load(open(os.path.join(copy, "config.json"))).get("architectures", []))
    ok = diff <= LOGIT_TOL and stored == [type(model).__name__]
    print(f"{'ok  ' if ok else 'FAIL'} {name + ' convert':<15} T={length:<4} max|Δlogit|={diff:.2e} between transformers "
          f"on the original and on longrope convert's copy ({', '.join(stored)})", flush=True)
    return ok


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--longrope", required=True)
    args = parser.parse_args()
    print(f"transformers {transformers.__version__}, torch {torch.__version__}; tolerance {LOGIT_TOL} on logits (fp32)")
    with tempfile.TemporaryDirectory() as workdir:
        results = [ok for case in cases() for ok in check_case(args.longrope, *case, workdir)]
    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
