// Opening an evaluation: config, overrides, weights, tokenizer, BOS, documents.
#include "eval/open_evaluation.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include <torch/version.h>

#include "eval/content_digest.h"
#include "eval/memory_estimate.h"
#include "formats/gguf.h"
#include "tokenizer/bpe_tokenizer.h"
#include "util/errors.h"

namespace fs = std::filesystem;

namespace longrope {
namespace {

// The model's own tokenizer for tokenizer "auto"; empty for byte-level models. A GGUF vocabulary this
// tool cannot read sets `unavailable`, which fails only if a text file needs tokenizing.
std::string model_tokenizer(const std::string& model_path, std::string& unavailable) {
  if (fs::is_regular_file(model_path)) {
    if (!formats::is_gguf_file(model_path)) return "";
    const formats::GgufFile gguf = formats::GgufFile::open(model_path);
    if (!gguf.find("tokenizer.ggml.model")) return "";
    const std::string kind = gguf.get_string("tokenizer.ggml.model");
    if (kind == "gpt2") return model_path;
    unavailable = fmt::format("{}: key 'tokenizer.ggml.model': '{}' vocabularies are not read from GGUF (only byte-level "
                              "BPE, 'gpt2'); name a tokenizer.json or tokenizer.model, or give pre-tokenized data",
                              model_path, kind);
    return "";
  }
  for (const char* name : {"tokenizer.json", "tokenizer.model"})
    if (fs::is_regular_file(fs::path(model_path) / name)) return (fs::path(model_path) / name).string();
  return "";
}

// A token id as a user writes it: digits only ("4k" is not an id).
int64_t parse_token_id(const std::string& text) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 12)
    throw InvalidSetting("bos", fmt::format("'{}' is not auto, none or a token id", text));
  return std::stoll(text);
}

// The BOS id to prepend, by `bos` (auto: the tokenizer's rule, else the config's bos_token_id).
std::optional<int64_t> resolve_bos(const std::string& bos, const std::string& tokenizer, const LlamaConfig& config,
                                   const std::string& model_path) {
  const int64_t vocab = config.vocab_size;
  if (bos == "none") return std::nullopt;
  if (bos != "auto") {
    const int64_t id = parse_token_id(bos);
    if (id >= vocab) throw InvalidSetting("bos", fmt::format("{} is outside the model's vocabulary ({})", id, vocab));
    return id;
  }
  if (is_bpe_tokenizer(tokenizer)) {
    const BpeTokenizer t = BpeTokenizer::from_file(tokenizer);
    if (t.vocab_size() > vocab)
      throw std::runtime_error(fmt::format("{}: vocabulary of {} tokens, but the model {} has {}: not this model's tokenizer",
                                           tokenizer, t.vocab_size(), model_path, vocab));
    if (t.add_bos() && t.bos_id()) return *t.bos_id();
    return std::nullopt;
  }
  if (config.bos_token_id && (*config.bos_token_id < 0 || *config.bos_token_id >= vocab))
    throw std::runtime_error(fmt::format("{}: field 'bos_token_id': {} is outside the vocabulary ({})", model_path,
                                         *config.bos_token_id, vocab));
  return config.bos_token_id;
}

// longrope-tokenize, the SentencePiece helper, beside this executable.
std::string sentencepiece_helper_path() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "longrope-tokenize";
  buf[n] = 0;
  return (fs::path(buf).parent_path() / "longrope-tokenize").string();
}

}  // namespace

EvaluationSetup open_evaluation(const ModelArgs& model_args, const DataArgs& data_args, const RuntimeArgs& runtime) {
  if (data_args.docs < 1) throw InvalidSetting("docs", fmt::format("must be positive, got {}", data_args.docs));
  if (data_args.min_tokens < 0) throw InvalidSetting("min_tokens", fmt::format("must be >= 0, got {}", data_args.min_tokens));
  if (data_args.windows < 1) throw InvalidSetting("windows", fmt::format("must be positive, got {}", data_args.windows));
  if (data_args.skip_tokens < 0) throw InvalidSetting("skip_tokens", fmt::format("must be >= 0, got {}", data_args.skip_tokens));
  if (model_args.original_length < 0 || model_args.original_length > (int64_t{1} << 32))  // as a config's is capped
    throw InvalidSetting("original_length", fmt::format("must be in [1, 2^32] (0: the config's), got {}", model_args.original_length));
  const ModelOptions options = runtime_model_options(runtime);
  set_cpu_threads(runtime);
  LlamaConfig config = model_args.random_weights_seed && fs::is_regular_file(model_args.path) ? load_llama_config(model_args.path)
                                                                                              : load_model_config(model_args.path);
  if (model_args.original_length > 0) config.original_max_position_embeddings = model_args.original_length;

  DataArgs data = data_args;
  std::string unavailable;
  if (data.tokenizer == "auto") data.tokenizer = model_tokenizer(model_args.path, unavailable);
  else if (data.tokenizer == "bytes" || data.tokenizer.empty()) data.tokenizer.clear();  // empty: already resolved to bytes
  else if (!fs::exists(data.tokenizer)) throw InvalidSetting("tokenizer", fmt::format("{}: file does not exist", data.tokenizer));
  else if (fs::is_directory(data.tokenizer) && !fs::is_regular_file(fs::path(data.tokenizer) / "tokenizer.json"))
    throw InvalidSetting("tokenizer", fmt::format("{}: a directory without a tokenizer.json", data.tokenizer));
  else if (fs::is_directory(data.tokenizer)) data.tokenizer = (fs::path(data.tokenizer) / "tokenizer.json").string();
  if (data.token_format != "auto" && data.token_format != "text" && data.token_format != "u16" && data.token_format != "u32" &&
      data.token_format != "npy")
    throw InvalidSetting("token_format", fmt::format("'{}' is not auto, text, u16, u32 or npy", data.token_format));
  // A tokenizer found beside the model that this tool cannot read fails only if text needs tokenizing
  // (token ids in .npy or .u32 need none); one the user named fails here.
  std::shared_ptr<const BpeTokenizer> bpe;
  if (is_bpe_tokenizer(data.tokenizer)) {
    try {
      bpe = std::make_shared<const BpeTokenizer>(BpeTokenizer::from_file(data.tokenizer));
    } catch (const std::runtime_error& e) {
      if (data_args.tokenizer != "auto") throw;
      unavailable = e.what();
      data.tokenizer.clear();
    }
  }
  const std::optional<int64_t> bos = resolve_bos(data.bos, data.tokenizer, config, model_args.path);

  if (model_args.random_weights_seed) require_weight_memory(config, 4, runtime.device, model_args.path, "its weights");  // drawn in float32
  LlamaModel model = model_args.random_weights_seed
                         ? LlamaModel(config, random_llama_weights(config, *model_args.random_weights_seed, options.load), options)
                         : LlamaModel::load(model_args.path, std::move(config), options);
  EvaluationSetup setup(std::move(model), options, model_args.path, std::move(data), runtime);
  setup.random_weights_seed_ = model_args.random_weights_seed;
  setup.bos_ = bos;
  setup.tokenizer_unavailable_ = unavailable;
  setup.bpe_ = bpe;
  return setup;
}

std::vector<Document> EvaluationSetup::read_documents(const std::string& path) const {
  return load_documents(DocumentSource{path, data_.token_format, data_.tokenizer, sentencepiece_helper_path(), tokenizer_unavailable_});
}

std::vector<Document> EvaluationSetup::documents_for_length(const std::vector<Document>& all, const std::string& source,
                                                            int64_t length) const {
  const int64_t needed = window_tokens(length);
  const DocumentSelection selection = selection_for(needed);
  std::vector<Document> docs = select_documents(all, selection, source);
  if (static_cast<int64_t>(docs.size()) < data_.docs)
    fmt::print(stderr, "warning: {}: only {} of the {} requested documents have at least {} tokens\n", source, docs.size(),
               data_.docs, selection.min_tokens);
  if (data_.first_windows_only()) return docs;  // whole: the evaluator scores each one's first window, as the reference does
  std::vector<Document> windows = select_windows(docs, needed, WindowSelection{data_.windows, data_.skip_tokens, data_.window_seed, 0});
  if (static_cast<int64_t>(windows.size()) < data_.windows * static_cast<int64_t>(docs.size()))
    fmt::print(stderr, "warning: {}: {} windows of {} tokens, not the {} × {} requested (documents too short)\n", source,
               windows.size(), needed, docs.size(), data_.windows);
  return windows;
}

std::vector<Document> EvaluationSetup::later_windows(const std::vector<Document>& all, const std::string& source, int64_t length,
                                                     int64_t per_document) const {
  const int64_t needed = window_tokens(length);
  return select_windows(select_documents(all, selection_for(needed), source), needed,
                        WindowSelection{per_document, data_.skip_tokens, data_.window_seed, data_.windows});
}

DocumentSelection EvaluationSetup::selection_for(int64_t tokens) const {
  return DocumentSelection{std::max(data_.min_tokens, data_.skip_tokens + tokens), data_.docs, data_.sample_seed};
}

std::vector<Document> EvaluationSetup::documents(int64_t length) const {
  return documents_for_length(read_documents(data_.path), data_.path, length);
}

std::vector<int32_t> EvaluationSetup::encode_text(const std::string& text) const {
  if (!tokenizer_unavailable_.empty()) throw std::runtime_error(tokenizer_unavailable_);
  if (bpe_) return encode_keeping_every_byte(*bpe_, text, "text with the tokenizer " + data_.tokenizer);
  if (!data_.tokenizer.empty())
    throw std::runtime_error(data_.tokenizer + ": a SentencePiece tokenizer runs in its own process, for documents only");
  std::vector<int32_t> ids;  // one token per byte, as the byte-level documents are read
  for (unsigned char byte : text) ids.push_back(byte);
  return ids;
}

std::string EvaluationSetup::decode_ids(const std::vector<int32_t>& ids) const {
  if (bpe_) return bpe_->decode(ids);
  std::string text;
  for (int32_t id : ids) text += static_cast<char>(id & 0xff);
  return text;
}

PerplexityOptions EvaluationSetup::perplexity_options(int64_t length, int64_t batch) const {
  return PerplexityOptions{length, bos_, runtime_.loss_chunk, batch};
}

ScoreJob EvaluationSetup::score_job(const std::string& command, const std::vector<Document>& documents) const {
  ScoreJob job;
  job.command = command;
  job.model = model_files_digest(model_path_);
  job.random_weights_seed = random_weights_seed_;
  job.documents = documents_digest(documents, bos_);
  job.dtype = dtype_name(model_.dtype());
  job.device = runtime_.device;
  job.attention = runtime_.attention;
  job.sliding_window = runtime_.sliding_window;
  job.loss_chunk = runtime_.loss_chunk;
  job.libtorch = TORCH_VERSION;
  return job;
}

LlamaModel EvaluationSetup::model_on(const std::string& device) const {
  ModelOptions o = options_;
  o.load.device = parse_device(device);
  if (o.load.device == options_.load.device) return LlamaModel(config(), model_.weights(), o);
  return LlamaModel::load(model_path_, config(), o);
}

}  // namespace longrope
