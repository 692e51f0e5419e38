"""Forward + NLL of a LLaMA-2-7B-shaped model with random bf16 weights made on the device, at 4k to
128k tokens: `longrope eval` against transformers' LlamaForCausalLM (sdpa, bf16) on the same shape,
lengths and token ids. Nothing is downloaded: both make their own random weights on the device.

For each length and system: tokens/s of the second of two passes (the first is a warm-up), peak GPU
memory, and model FLOP utilisation (MFU). FLOPs of one forward of T tokens, counted as stated in the
JSON (`flops_formula`): 2·T·P for the matrix products with the P weights of the projections, the MLP
and the LM head, plus 2·n_layers·T²·d for causal attention (QKᵀ and PV, each 2·T²·d per layer, halved
by the causal mask). MFU divides FLOPs per second by the datasheet's dense bf16 rate (H200 SXM:
989.4 TFLOP/s) and, beside it, by a bf16 matmul rate measured here in the same run.

Usage (scripts/gpu-check.sh runs it):
  python3 bench/gpu_bench.py --longrope build-gpu/longrope --out gpu-bench.json [--lengths 4k,16k]
      [--shape llama2-7b|tiny] [--device cuda|cpu] [--deadline UNIX_SECONDS]
A length whose predicted time would pass --deadline is skipped, and the JSON says so.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import parse_lengths  # noqa: E402  (standard library only)

SHAPES = {
    # LLaMA-2-7B (no BOS token, so that both systems score exactly the ids given).
    "llama2-7b": dict(vocab_size=32000, hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
                      num_attention_heads=32, num_key_value_heads=32, max_position_embeddings=4096, rope_theta=10000.0,
                      rms_norm_eps=1e-5, tie_word_embeddings=False),
    # The CPU rehearsal's stand-in: the same layout, 2 layers of hidden 128.
    "tiny": dict(vocab_size=512, hidden_size=128, intermediate_size=352, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=4, max_position_embeddings=256, rope_theta=10000.0, rms_norm_eps=1e-5,
                 tie_word_embeddings=False),
}
PEAK_BF16_DATASHEET = 989.4e12  # H200 SXM, dense bf16


def forward_flops(shape, tokens):
    c, i, v, layers = shape["hidden_size"], shape["intermediate_size"], shape["vocab_size"], shape["num_hidden_layers"]
    kv = c * shape["num_key_value_heads"] // shape["num_attention_heads"]
    per_layer = c * c * 2 + c * kv * 2 + 3 * c * i  # q, o; k, v; gate, up, down
    matmul_weights = layers * per_layer + v * c
    return 2 * tokens * matmul_weights + 2 * layers * tokens * tokens * c


def measured_matmul_peak(torch, device):
    if device != "cuda":
        return None
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    start = time.perf_counter()
    runs = 20
    for _ in range(runs):
        a @ b
    torch.cuda.synchronize()
    return 2 * 8192 ** 3 * runs / (time.perf_counter() - start)


def ours(args, config_path, tokens_path, length, work):
    out = os.path.join(work, f"ours-{length}.json")
    cmd = [args.longrope, "eval", "--model", config_path, "--random-weights", "0", "--device", args.device, "--dtype", args.dtype,
           "--data", tokens_path, "--length", str(length), "--docs", "1", "--method", "none,none", "--bos", "none",
           "--json", out]
    if args.device == "cpu":
        cmd += ["--threads", str(args.threads)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1], "wall_seconds": time.perf_counter() - start}
    with open(out) as f:
        timed = json.load(f)["results"][1]  # the second pass
    return {"seconds": timed["seconds"], "tokens_per_second": length / timed["seconds"], "mean_nll": timed["mean_nll"],
            "peak_device_bytes": timed.get("peak_device_bytes"), "wall_seconds": time.perf_counter() - start}


def transformers_model(torch, shape, device):
    from transformers import LlamaConfig, LlamaForCausalLM
    config = LlamaConfig(**shape, bos_token_id=None, eos_token_id=None, pad_token_id=None)
    config._attn_implementation = "sdpa"
    torch.manual_seed(0)
    with torch.device(device):
        model = LlamaForCausalLM(config)
    return model.to(torch.bfloat16 if device == "cuda" else torch.float32).eval()


def theirs(torch, model, ids, length, device):
    x = torch.tensor(ids[:length], dtype=torch.long, device=device)[None]
    out_of_memory = getattr(torch.cuda, "OutOfMemoryError", RuntimeError)
    result = {}
    try:
        for attempt in range(2):  # a warm-up, then the timed pass
            if device == "cuda":
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
            start = time.perf_counter()
            with torch.inference_mode():
                loss = model(input_ids=x, labels=x).loss.item()  # the item() waits for the GPU
            seconds = time.perf_counter() - start
        result = {"seconds": seconds, "tokens_per_second": length / seconds, "mean_nll": loss,
                  "peak_device_bytes": torch.cuda.max_memory_allocated() if device == "cuda" else None}
    except out_of_memory as e:
        result = {"error": f"out of memory: {str(e).splitlines()[0]}"}
    if device == "cuda":
        torch.cuda.empty_cache()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--longrope", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--lengths", default="4k,16k,32k,64k,128k")
    parser.add_argument("--shape", default="llama2-7b", choices=sorted(SHAPES))
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--dtype", default="bf16")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--deadline", type=float, default=0, help="UNIX time after which no length starts")
    args = parser.parse_args()
    import torch  # the script runs in the python whose torch is on the device

    shape = SHAPES[args.shape]
    lengths = parse_lengths(args.lengths)
    report = {"shape": args.shape, "config": shape, "device": args.device, "dtype": args.dtype,
              "flops_formula": "2*T*P_matmul + 2*n_layers*T^2*hidden (P_matmul: q,k,v,o, gate,up,down of every layer + lm_head)",
              "peak_bf16_flops_datasheet": PEAK_BF16_DATASHEET, "torch": torch.__version__,
              "gpu": torch.cuda.get_device_name(0) if args.device == "cuda" else None, "rows": [], "skipped": []}
    try:
        import transformers
        report["transformers"] = transformers.__version__
    except ImportError:
        report["transformers"] = None
    report["measured_bf16_matmul_flops"] = measured_matmul_peak(torch, args.device)
    with tempfile.TemporaryDirectory() as work:
        config_path = os.path.join(work, "config.json")
        with open(config_path, "w") as f:
            json.dump(dict(shape, model_type="llama", bos_token_id=None, eos_token_id=None), f)
        gen = torch.Generator().manual_seed(0)
        ids = torch.randint(0, shape["vocab_size"], (max(lengths),), generator=gen).tolist()
        tokens_path = os.path.join(work, "tokens.u32")
        with open(tokens_path, "wb") as f:
            f.write(b"".join(int(i).to_bytes(4, "little") for i in ids))
        model = transformers_model(torch, shape, args.device) if report["transformers"] else None
        seconds_per_flop = None
        for length in lengths:
            flops = forward_flops(shape, length)
            if args.deadline and seconds_per_flop is not None:
                predicted = 5 * flops * seconds_per_flop  # two passes of each system, and loading
                if time.time() + predicted > args.deadline:
                    report["skipped"].append({"length": length, "why": f"predicted {predicted:.0f} s would pass the deadline"})
                    print(f"skip {length}: predicted {predicted:.0f} s would pass the deadline", flush=True)
                    continue
            row = {"length": length, "flops": flops, "ours": ours(args, config_path, tokens_path, length, work)}
            if model is not None:
                row["transformers"] = theirs(torch, model, ids, length, args.device)
            for system in ("ours", "transformers"):
                r = row.get(system, {})
                if "seconds" in r:
                    r["flops_per_second"] = flops / r["seconds"]
                    r["mfu_datasheet"] = r["flops_per_second"] / PEAK_BF16_DATASHEET
                    if report["measured_bf16_matmul_flops"]:
                        r["mfu_measured_peak"] = r["flops_per_second"] / report["measured_bf16_matmul_flops"]
                    seconds_per_flop = max(seconds_per_flop or 0, r["seconds"] / flops)
            if "seconds" in row["ours"] and "seconds" in row.get("transformers", {}):
                row["ours_over_transformers"] = row["ours"]["tokens_per_second"] / row["transformers"]["tokens_per_second"]
            report["rows"].append(row)
            o, t = row["ours"], row.get("transformers", {})
            print(f"{length:>7} tokens: ours {o.get('tokens_per_second', float('nan')):9.0f} tok/s "
                  f"(MFU {o.get('mfu_datasheet', float('nan')):.1%}, {(o.get('peak_device_bytes') or 0) / 2**30:.1f} GiB) "
                  f"{o.get('error', '')}| transformers {t.get('tokens_per_second', float('nan')):9.0f} tok/s "
                  f"(MFU {t.get('mfu_datasheet', float('nan')):.1%}, {(t.get('peak_device_bytes') or 0) / 2**30:.1f} GiB) "
                  f"{t.get('error', '')}| ratio {row.get('ours_over_transformers', float('nan')):.2f}", flush=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
