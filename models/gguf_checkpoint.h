// Loading llama-architecture GGUF files (llama.cpp, Ollama) as LlamaConfig + LlamaWeights.
//
// Hyperparameters come from the `llama.*` metadata, tensors are dequantized to float32 on load
// (formats/ggml_dequantize.h lists the types) and then converted to the requested dtype. llama.cpp's
// converter permutes the rows of the Q and K projections so that its RoPE can rotate adjacent
// pairs; the loader undoes that permutation, giving the Hugging Face layout the forward expects.
#pragma once

#include <string>

#include "models/checkpoint.h"
#include "models/llama_config.h"
#include "models/llama_weights.h"

namespace longrope {

namespace formats {
class GgufFile;
}

// The config a GGUF file describes. A rope_freqs.weight tensor or a `longrope` scaling type with
// rope_factors_long/short becomes a longrope rope_scaling; linear and yarn map to theirs.
LlamaConfig llama_config_from_gguf(const formats::GgufFile& gguf);

// Every tensor `config` implies, checked (shape, type) and converted. Errors name the file and tensor.
LlamaWeights load_gguf_weights(const LlamaConfig& config, const formats::GgufFile& gguf, const LoadOptions& options);

// The GGUF tensor name for a Hugging Face name ("model.layers.3.self_attn.q_proj.weight" ->
// "blk.3.attn_q.weight"); empty when there is none.
std::string gguf_tensor_name(const std::string& hf_name);

}  // namespace longrope
