// What a serving runtime does with a config's two factor sets (Phi-3's short_factor/long_factor):
// which one it applies to a sequence, decided by its own rule, and that it has no n̂. Measured against
// the runtimes themselves by tests/python/runtime_parity.py; results/runtimes.md has the evidence.
//   transformers  by the current sequence length: long beyond L (a cache filled below L keeps its keys)
//   vllm          once for the server: long when --max-model-len exceeds L, for every request
//   llama.cpp     by the context allocated per sequence (n_ctx_seq, padded up to a multiple of 256):
//                 long when it exceeds L, for every token, however short the prompt
#pragma once

#include <array>
#include <cstdint>

#include "util/named_enum.h"

namespace longrope {

enum class Runtime { Transformers, VLLM, LlamaCpp };
inline constexpr std::array<EnumName<Runtime>, 3> kRuntimeNames = {
    {{Runtime::Transformers, "transformers"}, {Runtime::VLLM, "vllm"}, {Runtime::LlamaCpp, "llama.cpp"}}};

// llama.cpp rounds the context it allocates up to this many tokens (llama_context's n_ctx padding).
inline constexpr int64_t kLlamaCppContextPad = 256;

struct RuntimeRule {
  Runtime runtime = Runtime::Transformers;
  int64_t max_model_len = 0;  // vllm: the server's --max-model-len (required)
  int64_t n_ctx = 0;          // llama.cpp: the context per sequence (0: the window, as llama-perplexity -c T runs it)

  // Whether the long factors apply to a sequence of `length` tokens (for transformers: the prefill
  // of that length) of a model pre-trained at `original_length`.
  bool long_factors(int64_t length, int64_t original_length) const {
    switch (runtime) {
      case Runtime::Transformers: return length > original_length;
      case Runtime::VLLM: return max_model_len > original_length;
      case Runtime::LlamaCpp: {
        const int64_t context = n_ctx > 0 ? n_ctx : length;
        const int64_t padded = (context + kLlamaCppContextPad - 1) / kLlamaCppContextPad * kLlamaCppContextPad;
        return padded > original_length;
      }
    }
    return true;
  }
};

}  // namespace longrope
