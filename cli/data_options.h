// The document options eval, search and curve share, and their translation into documents.
#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "eval/documents.h"
#include "models/llama_config.h"

namespace longrope {

struct DataArgs {
  std::string data;
  int64_t docs = 5;
  int64_t min_tokens = 0;
  int64_t sample_seed = -1;
  std::string token_format = "auto";
  std::string tokenizer = "auto";
  std::string tokenizer_unavailable;  // set by apply_data_args: why text cannot be tokenized (if so)
  std::string bos = "auto";
  int64_t original_length = 0;
};

// `data_help` describes --data for this command; `required` makes --data mandatory.
boost::program_options::options_description data_options(DataArgs& args, const std::string& data_help);

// Applies --original-length to the config, resolves --tokenizer auto|bytes against the model at
// `model_path`, and returns the BOS id to prepend (if any).
std::optional<int64_t> apply_data_args(DataArgs& args, LlamaConfig& config, const std::string& model_path);

// Loads every document under `path` once.
std::vector<Document> load_all_documents(const DataArgs& args, const std::string& path);

// The scored documents for a window of `length` tokens: at least length (−1 with BOS) tokens, the
// first --docs of them (or seeded random). Warns when fewer than --docs qualify.
std::vector<Document> documents_for_length(const DataArgs& args, const std::vector<Document>& all, const std::string& path,
                                           int64_t length, bool bos);

}  // namespace longrope
