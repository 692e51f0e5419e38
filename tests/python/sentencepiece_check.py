"""longrope-tokenize (SentencePiece in its own process) against PyPI's sentencepiece, and the
tokenized path through `longrope eval --tokenizer`.

A small unigram model is trained with the sentencepiece package on a generated text; the ids our
executable writes must equal the package's for the same text.
Usage: sentencepiece_check.py --longrope PATH/TO/longrope --tokenize PATH/TO/longrope-tokenize
"""
import argparse
import json
import os
import random
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from ecosystem import require, run  # noqa: E402

require("sentencepiece", "numpy")

import numpy as np  # noqa: E402
import sentencepiece as spm  # noqa: E402


def synthetic_text(n_words, seed):
    rng = random.Random(seed)
    words = ["river", "stone", "light", "over", "under", "quiet", "the", "a", "of", "and", "walked", "house",
             "window", "morning", "évening", "naïve", "42", "—", "city", "garden"]
    lines = []
    for _ in range(n_words // 12):
        lines.append(" ".join(rng.choice(words) for _ in range(12)).capitalize() + ".")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--longrope", required=True)
    parser.add_argument("--tokenize", required=True)
    args = parser.parse_args()
    if not os.path.exists(args.tokenize):
        print(f"FAIL: {args.tokenize} was not built (libsentencepiece-dev missing?)")
        sys.exit(1)
    with tempfile.TemporaryDirectory() as work:
        corpus = os.path.join(work, "corpus.txt")
        with open(corpus, "w", encoding="utf-8") as f:
            f.write(synthetic_text(20000, 1))
        spm.SentencePieceTrainer.train(input=corpus, model_prefix=os.path.join(work, "sp"), vocab_size=80,
                                       model_type="unigram", minloglevel=2)
        model = os.path.join(work, "sp.model")
        text_path = os.path.join(work, "doc.txt")
        text = synthetic_text(3000, 2)
        with open(text_path, "w", encoding="utf-8") as f:
            f.write(text)
        expected = spm.SentencePieceProcessor(model_file=model).encode(text)
        out = os.path.join(work, "ours.u32")
        run([args.tokenize, "--model", model, "--input", text_path, "--output", out])
        ours = np.fromfile(out, dtype="<u4").tolist()
        same = ours == expected
        print(f"{'ok  ' if same else 'FAIL'} longrope-tokenize: {len(ours)} ids, sentencepiece: {len(expected)} ids")

        # The same ids through eval: a model with this vocabulary scores the tokenized document.
        config = os.path.join(work, "config.json")
        with open(config, "w") as f:
            json.dump({"vocab_size": 80, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
                       "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 128,
                       "tie_word_embeddings": True}, f)
        run([args.longrope, "init-model", "--config", config, "--out", os.path.join(work, "m")])
        result = os.path.join(work, "eval.json")
        run([args.longrope, "eval", "--model", os.path.join(work, "m"), "--data", text_path, "--tokenizer", model,
             "--length", "256", "--docs", "1", "--bos", "none", "--json", result, "--threads", "1"])
        ppl = json.load(open(result))["ppl"]
        sane = 40 < ppl < 160  # a random model over 80 ids: close to uniform
        print(f"{'ok  ' if sane else 'FAIL'} eval --tokenizer: ppl {ppl:.2f} (random model, vocabulary 80)")
    passed = int(same) + int(sane)
    print(f"{passed} passed, {2 - passed} failed")
    sys.exit(0 if passed == 2 else 1)


if __name__ == "__main__":
    main()
