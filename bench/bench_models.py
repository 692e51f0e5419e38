"""The benchmark models, their GGUF twins and the tokens every system reads, cached under CACHE.

Three models: the shipped byte-level books-bytes-3m, and two LLaMA-shaped models with random
weights written by our own `longrope init-model`: one of ~100M parameters and one of SmolLM2-135M's
shape. Each gets a tokenizer.json that maps byte b to id b, which llama.cpp's convert_hf_to_gguf.py
needs and llama-perplexity tokenizes text with.

The tokenizer: a byte-fallback BPE with no merges (llama.cpp's "llama"/SentencePiece vocabulary).
Ids 0..255 are the byte pieces <0x00>..<0xFF>, except id 0x20, which is "▁": SentencePiece-style
tokenizers turn every space into "▁" before looking pieces up, so a space becomes id 0x20 and every
other byte falls back to its own <0xNN> piece. Ids 256.. (the random models' vocabularies of 32000
and 49152) are private-use characters that never occur in the text. tokenizer_config.json turns off
BOS and the leading-space prefix, so llama.cpp gives exactly the byte values; check_tokenization
proves it.
"""
import json
import os
import shutil
import subprocess

from benchlib import CACHE, REPO, SHIPPED_MODEL, TEXT, byte_tokens, model_shape, run_measured, write_u32

HERE = os.path.dirname(os.path.abspath(__file__))

# ~100M parameters (100.1M, tied embeddings): LLaMA proportions at GPT-2-small width.
RANDOM_CONFIG = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 768, "intermediate_size": 2048,
    "num_hidden_layers": 12, "num_attention_heads": 12, "num_key_value_heads": 4, "head_dim": 64,
    "vocab_size": 32000, "max_position_embeddings": 2048, "rope_theta": 10000.0, "rms_norm_eps": 1e-5,
    "hidden_act": "silu", "tie_word_embeddings": True, "attention_bias": False, "mlp_bias": False,
    "bos_token_id": None, "eos_token_id": None, "torch_dtype": "float32",
}
# The shape of SmolLM2-135M (HuggingFaceTB; 134,515,008 parameters) with random weights: no download,
# and speed does not depend on the weights' values. Its context is 8192 and RoPE theta 100000.
SMOLLM2_SHAPE_CONFIG = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 576, "intermediate_size": 1536,
    "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3, "head_dim": 64,
    "vocab_size": 49152, "max_position_embeddings": 8192, "rope_theta": 100000.0, "rms_norm_eps": 1e-5,
    "hidden_act": "silu", "tie_word_embeddings": True, "attention_bias": False, "mlp_bias": False,
    "bos_token_id": None, "eos_token_id": None, "torch_dtype": "float32",
}
RANDOM_CONFIGS = {"random-100m": RANDOM_CONFIG, "smollm2-135m-shape": SMOLLM2_SHAPE_CONFIG}
MODELS = ("shipped-3m", "random-100m", "smollm2-135m-shape")
PRIVATE_USE = 0xF0000  # plane 15 private-use area: 65534 code points for the filler ids


def model_config(name):
    """The config.json contents of a model in MODELS, without building it (for shapes and FLOPs)."""
    if name in RANDOM_CONFIGS:
        return RANDOM_CONFIGS[name]
    if name == "shipped-3m":
        with open(os.path.join(SHIPPED_MODEL, "config.json")) as f:
            return json.load(f)
    raise ValueError(f"unknown model '{name}' (known: {', '.join(MODELS)})")


def llama_cpp_env():
    """KEY=VALUE lines of scripts/llama-cpp.sh --print-env, or None when llama.cpp is not built."""
    proc = subprocess.run(["bash", os.path.join(REPO, "scripts", "llama-cpp.sh"), "--print-env"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return None
    return dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)


# ---------------------------------------------------------------------------------------------------
# Tokenizer and checkpoints.

def write_byte_tokenizer(model_dir, vocab_size):
    if vocab_size < 256 or vocab_size - 256 > 65534:
        raise ValueError(f"byte tokenizer: vocabulary {vocab_size} must be in [256, 65790]")
    vocab = {("▁" if b == 0x20 else f"<0x{b:02X}>"): b for b in range(256)}
    for i in range(256, vocab_size):
        vocab[chr(PRIVATE_USE + i - 256)] = i
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
        "normalizer": {"type": "Replace", "pattern": {"String": " "}, "content": "▁"},
        "pre_tokenizer": None, "post_processor": None,
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": True, "ignore_merges": False,
                  "vocab": vocab, "merges": []},
    }
    with open(os.path.join(model_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer, f, ensure_ascii=False)
    with open(os.path.join(model_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "add_bos_token": False, "add_eos_token": False,
                   "add_prefix_space": False, "model_max_length": 1 << 20}, f)


def prepare_model(name, longrope):
    """The model directory for `name` (MODELS), with its tokenizer; built once under CACHE."""
    if name not in MODELS:
        raise ValueError(f"unknown model '{name}' (known: {', '.join(MODELS)})")
    model_dir = os.path.join(CACHE, name)
    stamp = os.path.join(model_dir, ".ready")  # holds the recipe the directory was made from
    recipe = json.dumps(RANDOM_CONFIGS[name] if name in RANDOM_CONFIGS else SHIPPED_MODEL)
    if os.path.exists(stamp):
        with open(stamp) as f:
            if f.read() == recipe:
                return model_dir
    shutil.rmtree(model_dir, ignore_errors=True)
    if name == "shipped-3m":
        os.makedirs(model_dir)
        for f in ("config.json", "model.safetensors"):
            os.symlink(os.path.join(SHIPPED_MODEL, f), os.path.join(model_dir, f))
    else:
        os.makedirs(CACHE, exist_ok=True)
        config = os.path.join(CACHE, f"{name}.config.json")
        with open(config, "w") as f:
            json.dump(RANDOM_CONFIGS[name], f, indent=2)
        print(f"writing {model_dir} (longrope init-model, random weights, seed 0)", flush=True)
        run_measured([longrope, "init-model", "--config", config, "--out", model_dir, "--seed", 0, "--dtype", "f32"]).check()
    write_byte_tokenizer(model_dir, model_shape(model_dir)["vocab"])
    with open(stamp, "w") as f:
        f.write(recipe)
    return model_dir


def prepare_gguf(python, model_dir, outtype, convert_script):
    """model-<outtype>.gguf beside the checkpoint, written by llama.cpp's convert_hf_to_gguf.py unless
    one newer than the weights is there (the shipped model's weights are links into the repository)."""
    path = os.path.join(model_dir, f"model-{outtype}.gguf")
    if os.path.exists(path) and os.path.getmtime(path) >= os.path.getmtime(os.path.join(model_dir, "model.safetensors")):
        return path
    print(f"converting {model_dir} to {outtype} GGUF with llama.cpp's convert_hf_to_gguf.py", flush=True)
    run_measured([python, convert_script, model_dir, "--outtype", outtype, "--outfile", path + ".partial"]).check()
    os.replace(path + ".partial", path)
    return path


# ---------------------------------------------------------------------------------------------------
# Tokens.

def prepare_tokens(lengths):
    """{length: .u32 of exactly that many ids} and one text file of 2·max(lengths) bytes for llama.cpp
    (llama-perplexity refuses text shorter than two windows; it scores only the first with --chunks 1)."""
    folder = os.path.join(CACHE, "tokens")
    os.makedirs(folder, exist_ok=True)
    stem = os.path.splitext(os.path.basename(TEXT))[0].lower()
    files = {}
    for length in lengths:
        path = os.path.join(folder, f"{stem}-{length}.u32")
        if not os.path.exists(path):
            write_u32(path, byte_tokens(length))
        files[length] = path
    text_path = os.path.join(folder, f"{stem}-{2 * max(lengths)}.txt")
    if not os.path.exists(text_path):
        with open(text_path, "wb") as f:
            f.write(bytes(byte_tokens(2 * max(lengths))))
    return files, text_path


def check_tokenization(python, gguf_path, text_path, env):
    """llama.cpp's tokenization of the text file must be its bytes exactly (checks.py tokenization).
    Returns the one-line verdict; raises on a mismatch."""
    m = run_measured([python, os.path.join(HERE, "checks.py"), "tokenization", "--gguf", gguf_path, "--text", text_path],
                     env=env)
    verdict = json.loads(m.stdout.strip().splitlines()[-1])["verdict"] if m.stdout.strip() else m.stderr[-2000:]
    if m.returncode != 0:
        raise RuntimeError(verdict)
    return verdict
