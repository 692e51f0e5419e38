// PerplexityEvaluator: perplexity of a model under a RoPE scaling, scored the way the LongRoPE
// reference scores a search candidate (one truncated forward per document).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "eval/documents.h"
#include "models/llama_model.h"
#include "models/rope_table.h"

namespace longrope {

struct PerplexityOptions {
  int64_t length = 0;               // tokens per forward, BOS included
  std::optional<int64_t> bos_id;    // prepended (never scored) when set
  int64_t loss_chunk_tokens = 2048; // LM head + cross-entropy over blocks of this many positions
  int64_t batch = 1;                // documents per forward
};

struct PerplexityResult {
  double ppl = 0;                   // exp(mean over documents of the per-document mean NLL)
  double mean_nll = 0;
  double nll_stderr = 0;            // standard error of that mean across documents (0 for one document)
  int64_t predictions = 0;
  double seconds = 0;
  std::vector<DocumentScore> documents;
};

// LibTorch's message of an allocation that failed (CUDA's "out of memory", the CPU allocator's "can't
// allocate memory"), cut to its first line of at most 240 characters; nullopt for any other error.
// Out of memory is the one failure a user meets by asking for a long window: it gets one line.
std::optional<std::string> out_of_memory_line(const std::string& what);

// The result of windows scored one by one (or resumed from a journal): ppl, mean and its standard
// error across the windows, predictions summed. `seconds` is the time they took.
PerplexityResult summarize_scores(std::vector<DocumentScore> documents, double seconds);

// The mean NLL of each scored window, in order (what a paired bootstrap compares).
std::vector<double> window_nlls(const PerplexityResult& result);

using ProgressCallback = std::function<void(size_t done, size_t total)>;

class PerplexityEvaluator {
 public:
  // The model must outlive the evaluator.
  PerplexityEvaluator(const LlamaModel& model, PerplexityOptions options);

  // Each document is truncated to the window (length − 1 tokens after a BOS, or length tokens).
  // Throws std::runtime_error naming a document that is too short or holds an id >= vocab size.
  PerplexityResult evaluate(const std::vector<Document>& documents, const RopeScaling& scaling,
                            const ProgressCallback& progress = {});

  // Why the perplexity of `documents` under `scaling` is not finite: the first document whose NLL is
  // not, and where its forward first leaves the finite numbers. For an error message.
  std::string explain_non_finite(const std::vector<Document>& documents, const RopeScaling& scaling);

  // Sum of token NLLs for each row of a (B, T) batch; positions 0..T-2 predict 1..T-1, of which the
  // last `scored_tail` only when it is > 0.
  std::vector<double> nll_sums(const at::Tensor& tokens, const RopeTable& table, int64_t scored_tail = 0) const;
  // How many predictions of a document's window are scored.
  int64_t predictions(const Document& doc) const;
  // Tokens in a document's window, BOS included: its own window_length, else the evaluator's length.
  int64_t window_length(const Document& doc) const;

  // The document's window: (T) int64, BOS first when set. Throws as evaluate() does.
  at::Tensor window(const Document& doc) const;
  // The cos/sin table of a scaling at the evaluator's length (shorter windows take its first rows),
  // from this evaluator's cache.
  RopeTable table(const RopeScaling& scaling);

  const PerplexityOptions& options() const { return options_; }
  const LlamaModel& model() const { return model_; }

 private:
  const LlamaModel& model_;
  PerplexityOptions options_;
  RopeTableCache tables_;
};

// Logits of one token sequence in one forward (to compare with other runtimes): (T, V) float32 on the
// CPU, contiguous. Throws std::runtime_error naming the document for a token id outside the vocabulary.
at::Tensor forward_logits(const LlamaModel& model, const Document& tokens, const RopeScaling& scaling);

// Summed NLL per batch row of `targets` (B, N) under logits = hidden (B, N, C) · head^T, computed
// over blocks of `chunk` positions so that full-vocabulary logits are never held for all N at once.
at::Tensor chunked_nll_sum(const at::Tensor& hidden, const at::Tensor& targets, const at::Tensor& head, int64_t chunk);

}  // namespace longrope
