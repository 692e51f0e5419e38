"""The checks that make eval_throughput.py's comparison fair, run with the venv's python in their own
process (the driver stays small: see benchlib.run_measured).
  checks.py tokenization --gguf G --text T    llama.cpp tokenizes T into its bytes exactly
  checks.py second-half-nll --logits L.npy --tokens X.u32
                                              mean NLL of logits n/2 .. n-2 (llama-perplexity's rule)
Each prints one JSON object on stdout and exits non-zero on a failed check.
"""
import argparse
import json
import sys


def tokenization(args):
    """As llama-perplexity calls it (common_tokenize: add_special, no parse_special)."""
    import llama_cpp
    with open(args.text, "rb") as f:
        text = f.read()
    llm = llama_cpp.Llama(model_path=args.gguf, vocab_only=True, verbose=False)
    try:
        ids = llm.tokenize(text, add_bos=True, special=False)
    finally:
        llm.close()
    expected = list(text)
    ok = ids == expected
    result = {"ok": ok, "bytes": len(text), "ids": len(ids)}
    if ok:
        result["verdict"] = f"llama.cpp tokenizes {len(text)} bytes into their byte values exactly (no BOS, no prefix space)"
    else:
        first = next((i for i, (a, b) in enumerate(zip(ids, expected)) if a != b), min(len(ids), len(expected)))
        result["verdict"] = (f"llama.cpp tokenizes {args.text} into {len(ids)} ids, not its {len(expected)} bytes; first "
                             f"difference at {first}: {ids[first:first + 8]} vs {expected[first:first + 8]}")
    print(json.dumps(result))
    return ok


def second_half_nll(args):
    import numpy as np
    logits = np.load(args.logits, mmap_mode="r")  # (T, V)
    ids = np.fromfile(args.tokens, dtype="<u4").astype(np.int64)
    n = logits.shape[0]
    if len(ids) != n:
        raise SystemExit(f"{args.logits} has {n} rows, {args.tokens} {len(ids)} ids")
    half, total = n // 2, 0.0
    for begin in range(half, n - 1, args.block):
        end = min(n - 1, begin + args.block)
        x = np.asarray(logits[begin:end], dtype=np.float64)
        top = x.max(axis=1)
        lse = np.log(np.exp(x - top[:, None]).sum(axis=1)) + top
        total += float((lse - x[np.arange(end - begin), ids[begin + 1:end + 1]]).sum())
    print(json.dumps({"mean_nll": total / (n - 1 - half), "predictions": n - 1 - half}))
    return True


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="check", required=True)
    p = sub.add_parser("tokenization")
    p.add_argument("--gguf", required=True)
    p.add_argument("--text", required=True)
    p = sub.add_parser("second-half-nll")
    p.add_argument("--logits", required=True)
    p.add_argument("--tokens", required=True)
    p.add_argument("--block", type=int, default=256, help="rows per float64 block")
    args = parser.parse_args()
    ok = tokenization(args) if args.check == "tokenization" else second_half_nll(args)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
