"""One transformers measurement (run by eval_throughput.py in its own process, so RSS is its own).

Hugging Face LlamaForCausalLM (attn_implementation="sdpa") on the CPU: loads the checkpoint in the
requested dtype, then runs `--passes` forward passes over the first `--length` ids of a .u32 file
and scores them. The loss is computed in chunks as `longrope eval` does: the decoder's hidden states
(model.model, no KV cache) for the whole window, then the LM head, a float32 log-softmax and the
picked log-probabilities over blocks of `--loss-chunk` positions, so (T, V) logits never exist at
once. Each pass is timed from the forward's start to the last NLL; loading is not timed.
Writes a JSON with the pass times and the mean NLL of every prediction and of llama-perplexity's
half (targets n/2+1 .. n-1).
Usage: hf_forward.py --model DIR --tokens X.u32 --length N --dtype f32|bf16 --out R.json
"""
import argparse
import json
import time

import numpy as np
import torch
import transformers

DTYPES = {"f32": torch.float32, "bf16": torch.bfloat16}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--length", type=int, required=True)
    parser.add_argument("--dtype", choices=sorted(DTYPES), required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--loss-chunk", type=int, default=2048)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    transformers.utils.logging.disable_progress_bar()

    ids = np.fromfile(args.tokens, dtype="<u4")[:args.length].astype(np.int64)
    if len(ids) != args.length:
        raise SystemExit(f"{args.tokens}: {len(ids)} ids, fewer than --length {args.length}")
    start = time.perf_counter()
    model = transformers.LlamaForCausalLM.from_pretrained(args.model, dtype=DTYPES[args.dtype],
                                                          attn_implementation="sdpa").eval()
    load_seconds = time.perf_counter() - start
    tokens = torch.from_numpy(ids).unsqueeze(0)
    targets = tokens[0, 1:]
    seconds, nll = [], None
    with torch.inference_mode():
        for _ in range(args.passes):
            start = time.perf_counter()
            hidden = model.model(input_ids=tokens, use_cache=False).last_hidden_state[0, :-1]  # (T-1, C)
            parts = []
            for begin in range(0, hidden.size(0), args.loss_chunk):
                logits = model.lm_head(hidden[begin:begin + args.loss_chunk]).float()    # (c, V)
                logp = torch.log_softmax(logits, dim=-1)
                parts.append(-logp.gather(-1, targets[begin:begin + args.loss_chunk, None])[:, 0].double())
            nll = torch.cat(parts)  # (T-1): NLL of token t+1 given 0..t
            seconds.append(time.perf_counter() - start)
    half = args.length // 2  # llama-perplexity scores logits n/2 .. n-2
    result = {
        "system": "transformers", "transformers_version": transformers.__version__, "torch_version": torch.__version__,
        "attn_implementation": model.config._attn_implementation, "dtype": args.dtype, "threads": args.threads,
        "length": args.length, "load_seconds": load_seconds, "pass_seconds": seconds,
        "loss": f"chunked: hidden states for the window, then LM head + float32 log-softmax over {args.loss_chunk} "
                f"positions at a time (never (T, V) logits at once)",
        "mean_nll": float(nll.mean()), "mean_nll_second_half": float(nll[half:].mean()),
        "predictions": int(nll.numel()), "predictions_second_half": int(nll[half:].numel()),
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
