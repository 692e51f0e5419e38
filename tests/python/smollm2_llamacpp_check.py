"""SmolLM2-135M GGUF: our perplexity on a book window is close to llama.cpp's on the same tokens.

We dequantize the Q4_1/Q8_0 weights to float32 once; llama.cpp keeps them quantized and multiplies
them with activations it quantizes to 8 bits (Q8_1/Q8_0) on the fly, so its NLL differs slightly
(measured: 3.4704 vs our 3.4668 nats per token on 2048 tokens of A Tale of Two Cities, +0.10 %).
Both score every token after the first of the same 2048-token window, tokenized by `longrope
tokenize` (the ids transformers gives; tokenizer_check.py). Tolerance: 0.02 nats mean NLL.
Usage: smollm2_llamacpp_check.py --longrope PATH/TO/longrope [--books DIR]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from ecosystem import require, run, unavailable  # noqa: E402

require("numpy", "llama_cpp")

import llama_cpp  # noqa: E402
import numpy as np  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LENGTH = 2048
NLL_TOL = 0.02


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--longrope", required=True)
    parser.add_argument("--books", default=os.path.join(REPO, "..", "shared", "data", "books"))
    args = parser.parse_args()
    book = os.path.join(args.books, "valid", "a-tale-of-two-cities.txt")
    if not os.path.exists(book):
        unavailable(f"the books ({book})")
    proc = subprocess.run([os.path.join(REPO, "scripts", "get-smollm2.sh")], capture_output=True, text=True)
    if proc.returncode != 0:
        unavailable("SmolLM2 GGUF (scripts/get-smollm2.sh failed)")
    model = proc.stdout.strip()
    with tempfile.TemporaryDirectory() as work:
        ids_path = os.path.join(work, "book.u32")
        run([args.longrope, "tokenize", "--tokenizer", model, "--input", book, "--output", ids_path])
        ids = np.fromfile(ids_path, dtype=np.uint32)[:LENGTH].astype(np.int64)
        ids.astype(np.uint32).tofile(ids_path)
        result = os.path.join(work, "eval.json")
        run([args.longrope, "eval", "--model", model, "--data", ids_path, "--length", str(LENGTH), "--docs", "1",
             "--method", "none", "--threads", "2", "--json", result])
        with open(result) as f:
            ours = json.load(f)
        ours_nll = next(r["mean_nll"] for r in ours["results"] if r["method"] == "none")

    llm = llama_cpp.Llama(model_path=model, n_ctx=LENGTH, n_batch=LENGTH, logits_all=True, verbose=False, n_threads=2)
    llm.eval(ids.tolist())
    logits = np.array(llm.scores[:LENGTH], dtype=np.float64)
    top = logits.max(axis=1, keepdims=True)
    lse = np.log(np.exp(logits - top).sum(axis=1)) + top[:, 0]
    theirs_nll = float((lse[:-1] - logits[np.arange(LENGTH - 1), ids[1:]]).mean())
    diff = theirs_nll - ours_nll
    ok = abs(diff) < NLL_TOL
    print(f"{'ok  ' if ok else 'FAIL'} SmolLM2 Q4_1, {LENGTH} tokens: mean NLL ours {ours_nll:.4f} (ppl {np.exp(ours_nll):.3f}), "
          f"llama.cpp {theirs_nll:.4f} (ppl {np.exp(theirs_nll):.3f}), difference {diff:+.4f} nats (tolerance {NLL_TOL})",
          flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
