"""Model FLOPs of one forward of a LLaMA-shaped model (standard library only).

    python3 bench/model_flops.py --check                     # the hand-computed tiny config, asserted
    python3 bench/model_flops.py --model DIR --lengths 2k,8k,32k

forward_flops(shape, T) counts the multiply-adds of the matrix products a forward of T tokens needs,
at 2 FLOPs each. `shape` holds the keys of benchlib.model_shape: hidden, intermediate, layers, heads,
kv_heads, head_dim, vocab, tied_embeddings.

    weight matmuls, per token:  2 · (layers · (hidden·head_dim·(2·heads + 2·kv_heads)    q, o; k, v
                                              + 3·hidden·intermediate)                  gate, up, down
                                     + hidden·vocab)                                    LM head
    attention, per layer:       2 · 2 · (T·T/2) · head_dim · heads                      QKᵀ and PV, causal: half

    forward_flops = 2·T·(layers·per_layer + hidden·vocab) + 2·layers·T²·head_dim·heads

The LM head counts whether or not it is tied to the embedding (tying shares the weights, not the
product; the embedding lookup is no product). The causal half is T²/2, not T(T+1)/2. Not counted:
RMSNorm, RoPE, SiLU, softmax, residual adds and the loss's log-softmax (all O(T·width), together
well under 1 % here). Every system in a table is divided into the same count: llama-perplexity computes
the LM head only for the half of the window it scores, which eval_throughput's README states.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import model_shape, parse_lengths  # noqa: E402


def weight_params_per_token(shape):
    """Weights in the matrix products every token passes through (projections, MLP, LM head)."""
    per_layer = (shape["hidden"] * shape["head_dim"] * (2 * shape["heads"] + 2 * shape["kv_heads"])
                 + 3 * shape["hidden"] * shape["intermediate"])
    return shape["layers"] * per_layer + shape["hidden"] * shape["vocab"]


def forward_flops(shape, tokens):
    """{'weights', 'attention', 'total'} FLOPs of one forward of `tokens` tokens (see the module doc)."""
    weights = 2 * tokens * weight_params_per_token(shape)
    # layers · 2 products · 2 FLOPs · T²/2 causal pairs · head_dim · heads, kept an exact integer
    attention = 2 * shape["layers"] * tokens * tokens * shape["head_dim"] * shape["heads"]
    return {"weights": weights, "attention": attention, "total": weights + attention}


FORMULA = ("2*T*(layers*(hidden*head_dim*(2*heads+2*kv_heads) + 3*hidden*intermediate) + hidden*vocab)"
           " + layers*2*2*(T*T/2)*head_dim*heads  [weight matmuls incl. the LM head (tied or not) + causal QK^T and PV;"
           " norms, RoPE, softmax, loss not counted]")


def check():
    """A tiny config computed by hand, term by term."""
    tiny = {"hidden": 8, "intermediate": 12, "layers": 2, "heads": 2, "kv_heads": 1, "head_dim": 4, "vocab": 10,
            "tied_embeddings": True}
    T = 6
    # per layer: q 8x8=64, k 8x4=32, v 8x4=32, o 8x8=64 -> 192; gate 96, up 96, down 96 -> 288; total 480
    # two layers 960, LM head 8x10=80 -> 1040 weights; 2 FLOPs each per token: 2080 per token, 12480 for 6 tokens
    assert weight_params_per_token(tiny) == 1040
    # attention per layer: QK^T 2 FLOPs * (36/2 causal pairs) * head_dim 4 * heads 2 = 288, PV the same: 576;
    # two layers: 1152
    f = forward_flops(tiny, T)
    assert f == {"weights": 12480, "attention": 1152, "total": 13632}, f
    assert forward_flops({**tiny, "tied_embeddings": False}, T) == f  # tying shares weights, not the product
    # SmolLM2-135M: 134,515,008 parameters, of which 134,479,872 are in per-token matrix products
    smol = {"hidden": 576, "intermediate": 1536, "layers": 30, "heads": 9, "kv_heads": 3, "head_dim": 64,
            "vocab": 49152, "tied_embeddings": True}
    assert weight_params_per_token(smol) == 134_479_872
    assert forward_flops(smol, 8192)["attention"] == 30 * 2 * 8192 * 8192 * 576
    print("model_flops check: ok (tiny config by hand: 12480 + 1152 = 13632 FLOPs for 6 tokens; "
          f"SmolLM2-135M at 8k: {forward_flops(smol, 8192)['total'] / 1e12:.3f} TFLOP)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="assert the hand-computed tiny config and exit")
    parser.add_argument("--model", help="a model directory with a LLaMA config.json")
    parser.add_argument("--lengths", default="2k,8k,32k")
    args = parser.parse_args()
    if args.check or not args.model:
        check()
        if not args.model:
            return
    shape = model_shape(args.model)
    rows = {T: {k: v / 1e9 for k, v in forward_flops(shape, T).items()} for T in parse_lengths(args.lengths)}
    print(json.dumps({"formula": FORMULA, "gflop_per_forward": rows}, indent=2))


if __name__ == "__main__":
    main()
