"""`longrope tokenize` (our byte-level BPE) against Hugging Face `tokenizers` on real books.

The ids must be identical, document for document, for:
  (a) SmolLM2-135M-Instruct's tokenizer, read from its GGUF by our GGUF reader, and from the
      tokenizer.json that transformers derives from the same GGUF. transformers ignores
      tokenizer.ggml.pre ("smollm": digits one by one, as in SmolLM2's published tokenizer.json), so
      the derived file is checked as written (plain ByteLevel) and with SmolLM2's Digits step put back,
      which is what the GGUF means and what our GGUF path must match;
  (b) a Llama 3 style tokenizer.json trained here (Split with Llama 3's regex, ByteLevel without regex,
      ignore_merges, a BOS template);
  (c) a GPT-2 style one trained here (ByteLevel with its regex and a prefix space).
Besides the books, one synthetic document mixes added tokens, contractions, digits of several
scripts, whitespace runs and non-Latin text.

Usage: tokenizer_check.py --longrope PATH/TO/longrope [--books DIR] [--gguf FILE]
The books default to ../shared/data/books beside the repository; the GGUF to
$LONGROPE_CACHE/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf (scripts/get-smollm2.sh puts it there).
A missing book set or GGUF skips that part visibly (exit 77 when something was skipped and nothing
failed); under CI=true it is a failure.
"""
import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from ecosystem import SKIP, require, run  # noqa: E402

require("tokenizers", "transformers", "numpy")

import numpy as np  # noqa: E402
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+")
# Two books from each held-out split, and the ~1 MB one whose encode time is reported.
BOOKS = ["valid/a-tale-of-two-cities.txt", "valid/wuthering-heights.txt", "valid/great-expectations.txt",
         "test/pride-and-prejudice.txt", "test/the-picture-of-dorian-gray.txt"]
TIMED_BOOK = "valid/great-expectations.txt"
TRAIN_BOOKS = ["train/alice-s-adventures-in-wonderland.txt", "train/the-secret-adversary.txt"]

# Code points PCRE2 10.42 (Unicode 14) and tokenizers' Oniguruma classify alike; nothing newer.
SYNTHETIC = (
    "<|begin_of_text|>He said: \"I'M here, you'RE there; it's 3:45pm on 2024-12-31.\"\r\n"
    "\tTabs\t\tand  double  spaces   end   \n\n\n"
    "<|endoftext|>Numbers: 1234567 ²³ ½ ٣٤٥ ０１２ Ⅻ 12,345.67\n"
    "Unicode: Zürich naïve café — “quotes” ‘single’ … ¿Qué? ¡Sí! Ελλάδα Россия 中文字符 日本語 한국어 "
    "e\u0301 a\u0308 עברית العربية हिन्दी 😀👍🏽 \u00a0nbsp\u2028line\u2029para\u200bzw\ufeffbom\n"
    "Contractions: don't DON'T we've WE'VE they'll THEY'LL I'd it'S\n"
    "Special <|im_start|>user\nhi<|im_end|> and a <|begin_of_text|> mid-sentence<|end_of_text|>\n"
    "   \n \n  trailing spaces   "
)


def random_mix(seed, lines=300):
    """Text drawn from whitespace of every kind, ASCII punctuation, contractions, numbers, other
    scripts, combining marks, emoji and added tokens: where pre-tokenizer rules meet."""
    rng = random.Random(seed)
    pool = (list(" \t\n\r\x0b\x0c\x85\xa0\u1680\u2000\u2009\u200a\u2028\u2029\u202f\u205f\u3000") * 3 +
            list("abcXYZ'sStTdDmMlLvVrReE0123456789.,;:!?-_()[]{}<>|/\\\"#$%&*+=@^`~") +
            list("éüñßøÆ中文日本語한국어ΑβγДж١٢٣²³½ⅫⅣ０１😀👍🏽\u0301\u0308\u200b\u200d\ufeff€£¥©®™—–…“”‘’«»"))
    specials = ["<|endoftext|>", "<|im_start|>", "<|begin_of_text|>", "<|end_of_text|>"]
    out = []
    for _ in range(lines):
        for _ in range(rng.randint(1, 400)):
            r = rng.random()
            if r < 0.01:
                out.append(rng.choice(specials))
            elif r < 0.05:
                out.append(" " * rng.randint(1, 6))
            elif r < 0.07:
                out.append("'" + rng.choice(["s", "S", "ll", "LL", "re", "Ve", "d", "M", "t"]))
            elif r < 0.09:
                out.append(str(rng.randint(0, 10**8)))
            else:
                out.append(rng.choice(pool))
        out.append("\n")
    return "".join(out)


def missing(message, ci_failures):
    if os.environ.get("CI") == "true":
        print(f"FAIL: {message}; CI must run this part", flush=True)
        ci_failures.append(message)
    else:
        print(f"SKIP: {message}", flush=True)


def ours(longrope, tokenizer, text_path, work, add_bos=False):
    out = os.path.join(work, "ours.u32")
    cmd = [longrope, "tokenize", "--tokenizer", tokenizer, "--input", text_path, "--output", out]
    stdout = run(cmd + (["--add-bos"] if add_bos else []))
    return np.fromfile(out, dtype="<u4").tolist(), stdout


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.tokens = {}

    def compare(self, label, name, got, expected, hf, counted=True):
        if got == expected:
            self.passed += 1
            if counted:
                self.tokens[label] = self.tokens.get(label, 0) + len(expected)
            print(f"ok   {label:<34} {name:<38} {len(expected):>8} tokens identical", flush=True)
            return
        self.failed += 1
        i = first_difference(got, expected)
        context = hf.decode(expected[max(0, i - 5):i + 5])
        print(f"FAIL {label:<34} {name:<38} ours {len(got)} tokens, tokenizers {len(expected)}; first difference "
              f"at {i}: ours {got[i:i + 5]} vs {expected[i:i + 5]} near {context!r}", flush=True)


def train_tokenizer(kind, texts, path):
    """A small BPE trained on `texts` in the style of Llama 3 ("llama3") or GPT-2 ("gpt2")."""
    if kind == "llama3":
        tok = Tokenizer(models.BPE(ignore_merges=True))
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
        specials = ["<|begin_of_text|>", "<|end_of_text|>"]
    else:
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True)
        specials = ["<|endoftext|>"]
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=6000, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    if kind == "llama3":
        bos = tok.token_to_id("<|begin_of_text|>")
        tok.post_processor = processors.Sequence([
            processors.ByteLevel(trim_offsets=False),
            processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A $B",
                                          special_tokens=[("<|begin_of_text|>", bos)])])
    tok.save(path)
    return path


def smollm2_tokenizers(gguf, work):
    """tokenizer.json files derived from the GGUF by transformers: as written, and with Digits back."""
    from transformers import AutoTokenizer
    derived = os.path.join(work, "smollm2-transformers")
    AutoTokenizer.from_pretrained(os.path.dirname(gguf), gguf_file=os.path.basename(gguf)).save_pretrained(derived)
    as_written = os.path.join(derived, "tokenizer.json")
    with open(as_written, encoding="utf-8") as f:
        j = json.load(f)
    byte_level = j["pre_tokenizer"]
    if byte_level.get("type") != "ByteLevel":
        raise SystemExit(f"FAIL: transformers wrote an unexpected pre_tokenizer {byte_level}")
    j["pre_tokenizer"] = {"type": "Sequence",
                          "pretokenizers": [{"type": "Digits", "individual_digits": True}, byte_level]}
    digits_dir = os.path.join(work, "smollm2-digits")
    os.makedirs(digits_dir)
    shutil.copy(os.path.join(derived, "tokenizer_config.json"), digits_dir)  # bos_token
    with_digits = os.path.join(digits_dir, "tokenizer.json")
    with open(with_digits, "w", encoding="utf-8") as f:
        json.dump(j, f, ensure_ascii=False)
    return as_written, with_digits


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--longrope", required=True)
    parser.add_argument("--books", default=os.path.join(REPO, "..", "shared", "data", "books"))
    cache = os.environ.get("LONGROPE_CACHE", os.path.expanduser("~/.cache/longrope"))
    parser.add_argument("--gguf", default=os.path.join(cache, "smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    args = parser.parse_args()
    ci_failures = []
    skipped = False
    report = Report()

    with tempfile.TemporaryDirectory() as work:
        documents = []  # (name, path, text)
        synthetic = os.path.join(work, "synthetic.txt")
        with open(synthetic, "w", encoding="utf-8", newline="") as f:
            f.write(SYNTHETIC)
        documents.append(("synthetic", synthetic, SYNTHETIC))
        mix_text = random_mix(seed=1)
        mix = os.path.join(work, "random-mix.txt")
        with open(mix, "w", encoding="utf-8", newline="") as f:
            f.write(mix_text)
        documents.append(("random mix (seed 1)", mix, mix_text))
        books_present = all(os.path.exists(os.path.join(args.books, b)) for b in BOOKS + TRAIN_BOOKS)
        if books_present:
            for b in BOOKS:
                path = os.path.join(args.books, b)
                with open(path, encoding="utf-8", newline="") as f:
                    documents.append((b, path, f.read()))
            train_texts = []
            for b in TRAIN_BOOKS:
                with open(os.path.join(args.books, b), encoding="utf-8", newline="") as f:
                    train_texts.append(f.read())
        else:
            missing(f"books not found under {args.books} (checking the synthetic document only)", ci_failures)
            skipped = True
            train_texts = [SYNTHETIC * 20]

        tokenizers = []  # (label, our tokenizer file, reference tokenizer.json)
        if os.path.exists(args.gguf):
            as_written, with_digits = smollm2_tokenizers(args.gguf, work)
            tokenizers += [("smollm2 gguf", args.gguf, with_digits),
                           ("smollm2 tokenizer.json +digits", with_digits, with_digits),
                           ("smollm2 tokenizer.json (transformers)", as_written, as_written)]
        else:
            missing(f"SmolLM2 GGUF {args.gguf} not found (scripts/get-smollm2.sh fetches it)", ci_failures)
            skipped = True
        start = time.time()
        llama3 = train_tokenizer("llama3", train_texts, os.path.join(work, "llama3.json"))
        gpt2 = train_tokenizer("gpt2", train_texts, os.path.join(work, "gpt2.json"))
        print(f"trained Llama 3 and GPT-2 style tokenizers (6000 tokens each) in {time.time() - start:.1f} s", flush=True)
        tokenizers += [("llama3-style tokenizer.json", llama3, llama3), ("gpt2-style tokenizer.json", gpt2, gpt2)]

        references = {}
        for label, ours_file, reference in tokenizers:
            hf = references.setdefault(reference, Tokenizer.from_file(reference))
            for name, path, text in documents:
                got, stdout = ours(args.longrope, ours_file, path, work)
                report.compare(label, name, got, hf.encode(text, add_special_tokens=False).ids, hf)
                if name == TIMED_BOOK:
                    print(f"     {stdout.strip()}", flush=True)
            # BOS: --add-bos puts first what the model's template (or tokenizer_config.json) names.
            if label.startswith("llama3"):
                expected_bos = hf.encode("x", add_special_tokens=True).ids[:1]
            elif label.startswith("smollm2"):
                expected_bos = [hf.token_to_id("<|im_start|>")]  # the GGUF's bos_token_id
            else:
                continue  # the GPT-2 style tokenizer names no BOS
            got, _ = ours(args.longrope, ours_file, synthetic, work, add_bos=True)
            report.compare(label, "--add-bos: first id", got[:1], expected_bos, hf, counted=False)

    for label, count in report.tokens.items():
        print(f"     {label}: {count} tokens compared in {len(documents)} documents")
    print(f"{report.passed} passed, {report.failed} failed")
    for message in ci_failures:
        print(f"FAIL: {message} (CI=true)")
    if report.failed or ci_failures:
        sys.exit(1)
    sys.exit(SKIP if skipped else 0)


if __name__ == "__main__":
    main()
