// One way to open an evaluation: the model built once, with its config overrides applied first; the
// tokenizer and the BOS rule resolved once; documents read with them and chosen for a window length.
// eval, curve, sweep-theta, search and forward all start here.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eval/documents.h"
#include "eval/perplexity.h"
#include "eval/score_journal.h"
#include "models/llama_model.h"
#include "models/model_runtime.h"
#include "tokenizer/bpe_tokenizer.h"

namespace longrope {

struct ModelArgs {
  std::string path;              // a model directory (config.json + safetensors) or a .gguf file
  int64_t original_length = 0;   // the pre-training length L, if the config's is wrong; 0: the config's
  // Benchmarks only: `path` is a config.json alone, and the weights are random from this seed, made
  // on the device (a 7B shape in seconds, nothing downloaded or written).
  std::optional<uint64_t> random_weights_seed;
};

struct DataArgs {
  std::string path;              // a document or a directory of them; empty: none (forward)
  int64_t docs = 5;              // documents to score: the first `docs` long enough ...
  std::optional<uint64_t> sample_seed;  // ... or `docs` of them drawn with this seed
  int64_t min_tokens = 0;        // keep documents with at least this many tokens (0: the window)
  std::string token_format = "auto";  // auto (by extension), text, u16, u32, npy
  std::string tokenizer = "auto";     // auto (the model's own), bytes, or a tokenizer.json/.gguf/tokenizer.model
  std::string bos = "auto";      // auto (the model's rule), none, or a token id
  // Where in each document the scored windows lie (the reference: its first window only).
  int64_t windows = 1;           // non-overlapping windows per document
  int64_t skip_tokens = 0;       // opening tokens of each document never scored
  std::optional<uint64_t> window_seed;  // draw the windows at random among the document's slots
  // The reference's scoring: each document's first window, nothing skipped.
  bool first_windows_only() const { return windows == 1 && skip_tokens == 0 && !window_seed; }
};

class EvaluationSetup {
 public:
  const LlamaModel& model() const { return model_; }
  const LlamaConfig& config() const { return model_.config(); }
  const RuntimeArgs& runtime() const { return runtime_; }
  const std::string& model_path() const { return model_path_; }
  const DataArgs& data() const { return data_; }
  std::optional<int64_t> bos() const { return bos_; }

  // Every document under `path` (a file or directory), tokenized as the model's own tokenizer does.
  std::vector<Document> read_documents(const std::string& path) const;
  // The documents scored in a window of `length` tokens (BOS included): the first `docs` (or a
  // seeded draw) of those long enough. Warns on stderr when fewer than `docs` qualify; throws a
  // runtime_error naming `source` when none does.
  std::vector<Document> documents_for_length(const std::vector<Document>& all, const std::string& source, int64_t length) const;
  // documents_for_length over the documents at data().path.
  std::vector<Document> documents(int64_t length) const;
  // The document tokens a window of `length` holds: the BOS, when the model has one, is added at scoring.
  int64_t window_tokens(int64_t length) const { return bos_ ? length - 1 : length; }
  // More windows of the documents documents_for_length chose, after theirs in each document's order
  // (the same slots never twice): `per_document` of them, fewer where a document is short.
  std::vector<Document> later_windows(const std::vector<Document>& all, const std::string& source, int64_t length,
                                      int64_t per_document) const;
  // Text → ids and back with this model's tokenizer, in this process: a byte-level BPE, or one token
  // per byte. Throws std::runtime_error naming the tokenizer for a SentencePiece one (it runs in a
  // helper process, for documents only).
  std::vector<int32_t> encode_text(const std::string& text) const;
  std::string decode_ids(const std::vector<int32_t>& ids) const;
  // How the perplexity of a window of `length` tokens is computed here.
  PerplexityOptions perplexity_options(int64_t length, int64_t batch = 1) const;
  // What scores of `documents` computed here by `command` (eval, curve) depend on, beside each
  // window's scaling: a resumed job's journal must match it.
  ScoreJob score_job(const std::string& command, const std::vector<Document>& documents) const;
  // The same weights on another device (a search's second evaluator); on this one, shares them.
  LlamaModel model_on(const std::string& device) const;

 private:
  friend EvaluationSetup open_evaluation(const ModelArgs&, const DataArgs&, const RuntimeArgs&);
  EvaluationSetup(LlamaModel model, ModelOptions options, std::string model_path, DataArgs data, RuntimeArgs runtime)
      : model_(std::move(model)), options_(options), model_path_(std::move(model_path)), data_(std::move(data)),
        runtime_(std::move(runtime)) {}

  LlamaModel model_;
  ModelOptions options_;
  std::string model_path_;
  std::optional<uint64_t> random_weights_seed_;  // benchmarks: the weights were drawn, not read
  DataArgs data_;                // tokenizer resolved: a file, or empty for one token per byte
  RuntimeArgs runtime_;
  std::optional<int64_t> bos_;
  // The documents long enough for a window of `tokens` after the skipped opening.
  DocumentSelection selection_for(int64_t tokens) const;
  std::string tokenizer_unavailable_;  // why text cannot be tokenized, if it cannot
  std::shared_ptr<const BpeTokenizer> bpe_;  // the byte-level BPE tokenizer, when the model has one
};

// Validates the arguments (InvalidSetting naming the setting), reads the config, applies the
// overrides, loads the weights once, and resolves the tokenizer and BOS. Reads no document.
EvaluationSetup open_evaluation(const ModelArgs& model, const DataArgs& data, const RuntimeArgs& runtime);

}  // namespace longrope
