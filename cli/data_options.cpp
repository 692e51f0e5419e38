// Document options.
#include "cli/data_options.h"

#include <fmt/format.h>

#include <filesystem>
#include <stdexcept>

#include "tokenizer/bpe_tokenizer.h"
#include "formats/gguf.h"

#include "cli/cli_util.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace longrope {

po::options_description data_options(DataArgs& a, const std::string& data_help) {
  po::options_description d("Documents");
  d.add_options()
      ("data", po::value(&a.data)->required(), data_help.c_str())
      ("docs", po::value(&a.docs)->default_value(a.docs), "documents to score (the first K long enough)")
      ("min-tokens", po::value(&a.min_tokens)->default_value(a.min_tokens), "keep documents with at least this many tokens (0: the window)")
      ("sample-seed", po::value(&a.sample_seed)->default_value(a.sample_seed), "draw the K documents at random with this seed (-1: first K)")
      ("token-format", po::value(&a.token_format)->default_value(a.token_format), "auto (by extension), text, u16, u32 or npy")
      ("tokenizer", po::value(&a.tokenizer)->default_value(a.tokenizer),
       "for text files: auto (the model's own: a GGUF's vocabulary, else tokenizer.json or tokenizer.model beside config.json, "
       "else bytes), bytes (one token per byte), or a tokenizer.json, .gguf or SentencePiece tokenizer.model")
      ("bos", po::value(&a.bos)->default_value(a.bos), "auto (as the model defines it: its tokenizer's rule, else the config's "
       "bos_token_id), none, or a token id")
      ("original-length", po::value(&a.original_length)->default_value(a.original_length), "override the pre-training length L (0: from config.json)");
  return d;
}

// The model's own tokenizer for --tokenizer auto; empty for byte-level models. A GGUF vocabulary this
// tool cannot read sets `unavailable`, which fails only if a text file needs tokenizing.
std::string model_tokenizer(const std::string& model_path, std::string& unavailable) {
  if (fs::is_regular_file(model_path)) {
    if (!formats::is_gguf_file(model_path)) return "";
    const formats::GgufFile gguf = formats::GgufFile::open(model_path);
    if (!gguf.find("tokenizer.ggml.model")) return "";
    const std::string kind = gguf.get_string("tokenizer.ggml.model");
    if (kind == "gpt2") return model_path;
    unavailable = fmt::format("{}: key 'tokenizer.ggml.model': '{}' vocabularies are not read from GGUF (only byte-level "
                              "BPE, 'gpt2'); pass --tokenizer tokenizer.json or tokenizer.model, or pre-tokenized data",
                              model_path, kind);
    return "";
  }
  for (const char* name : {"tokenizer.json", "tokenizer.model"})
    if (fs::exists(fs::path(model_path) / name)) return (fs::path(model_path) / name).string();
  return "";
}

std::optional<int64_t> apply_data_args(DataArgs& a, LlamaConfig& config, const std::string& model_path) {
  if (a.docs < 1) throw std::invalid_argument(fmt::format("--docs must be positive, got {}", a.docs));
  if (a.original_length < 0) throw std::invalid_argument("--original-length must be positive");
  if (a.original_length > 0) config.original_max_position_embeddings = a.original_length;
  if (a.tokenizer == "auto") a.tokenizer = model_tokenizer(model_path, a.tokenizer_unavailable);
  else if (a.tokenizer == "bytes") a.tokenizer.clear();
  else if (!fs::exists(a.tokenizer)) throw std::invalid_argument(fmt::format("--tokenizer {}: file does not exist", a.tokenizer));
  std::optional<int64_t> bos;
  if (a.bos == "auto" && is_bpe_tokenizer(a.tokenizer)) {
    const BpeTokenizer tokenizer = BpeTokenizer::from_file(a.tokenizer);
    if (tokenizer.add_bos()) bos = tokenizer.bos_id();
  } else if (a.bos == "auto") {
    bos = config.bos_token_id;
  } else if (a.bos != "none") {
    bos = parse_length(a.bos, "--bos");
  }
  if (bos && (*bos < 0 || *bos >= config.vocab_size))
    throw std::invalid_argument(fmt::format("--bos {} is outside the vocabulary ({})", *bos, config.vocab_size));
  return bos;
}

std::vector<Document> load_all_documents(const DataArgs& a, const std::string& path) {
  return load_documents(DocumentSource{path, a.token_format, a.tokenizer, tokenize_exe_path(), a.tokenizer_unavailable});
}

std::vector<Document> documents_for_length(const DataArgs& a, const std::vector<Document>& all, const std::string& path,
                                           int64_t length, bool bos) {
  const int64_t needed = bos ? length - 1 : length;
  DocumentSelection sel{a.min_tokens > 0 ? std::max(a.min_tokens, needed) : needed, a.docs,
                        a.sample_seed >= 0 ? std::optional<uint64_t>(a.sample_seed) : std::nullopt};
  std::vector<Document> docs = select_documents(all, sel, path);
  if (static_cast<int64_t>(docs.size()) < a.docs)
    fmt::print(stderr, "warning: {}: only {} of the {} requested documents have at least {} tokens\n", path, docs.size(), a.docs,
               sel.min_tokens);
  return docs;
}

}  // namespace longrope
