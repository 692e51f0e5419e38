// BpeTokenizer loaders: a Hugging Face tokenizer.json, or GGUF's tokenizer.ggml.* keys read the way
// llama.cpp reads them (llama-vocab.cpp) but pre-tokenized with tokenizer.json's own patterns.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "tokenizer/bpe_tokenizer.h"
#include "formats/format_error.h"
#include "formats/gguf.h"
#include "formats/input_file.h"

namespace longrope {
namespace {

using formats::FormatError;
using nlohmann::json;

// ---- tokenizer.json ---------------------------------------------------------------------------

// Reads fields of one JSON file; every failure names the file and the field.
struct JsonFields {
  std::string path;

  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    throw FormatError(path + ": " + field + ": " + problem);
  }
  // nullptr when the key is absent or null.
  const json* find(const json& object, const char* key) const {
    const auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
  }
  const json& require(const json& object, const char* key, const std::string& field) const {
    const json* value = find(object, key);
    if (!value) fail(field, "missing");
    return *value;
  }
  std::string string(const json& value, const std::string& field) const {
    if (!value.is_string()) fail(field, std::string("expected a string, got ") + value.type_name());
    return value.get<std::string>();
  }
  bool boolean(const json& object, const char* key, const std::string& field, bool fallback) const {
    const json* value = find(object, key);
    if (!value) return fallback;
    if (!value->is_boolean()) fail(field, std::string("expected true or false, got ") + value->type_name());
    return value->get<bool>();
  }
  int32_t id(const json& value, const std::string& field) const {
    if (!value.is_number_integer() || value.get<int64_t>() < 0 || value.get<int64_t>() > INT32_MAX)
      fail(field, "expected an id (an integer from 0 to 2^31-1), got " + value.dump());
    return static_cast<int32_t>(value.get<int64_t>());
  }
  const json& typed(const json& value, const std::string& field, std::string& type) const {
    if (!value.is_object()) fail(field, std::string("expected an object, got ") + value.type_name());
    type = string(require(value, "type", field + ".type"), field + ".type");
    return value;
  }
};

SplitBehavior split_behavior(const JsonFields& f, const std::string& name, const std::string& field) {
  if (name == "Removed") return SplitBehavior::Removed;
  if (name == "Isolated") return SplitBehavior::Isolated;
  if (name == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (name == "Contiguous") return SplitBehavior::Contiguous;
  f.fail(field, "behavior '" + name + "' is unknown");
}

void add_pre_tokenizer(const JsonFields& f, const json& value, const std::string& field,
                       std::vector<PreTokenizerStep>& steps) {
  std::string type;
  f.typed(value, field, type);
  if (type == "Sequence") {
    const json& list = f.require(value, "pretokenizers", field + ".pretokenizers");
    if (!list.is_array()) f.fail(field + ".pretokenizers", "expected an array");
    for (size_t i = 0; i < list.size(); ++i)
      add_pre_tokenizer(f, list[i], field + ".pretokenizers[" + std::to_string(i) + "]", steps);
  } else if (type == "ByteLevel") {
    // tokenizers' defaults: add_prefix_space true, use_regex true.
    steps.push_back(byte_level_step(f.boolean(value, "add_prefix_space", field + ".add_prefix_space", true),
                                    f.boolean(value, "use_regex", field + ".use_regex", true)));
  } else if (type == "Digits") {
    steps.push_back(digits_step(f.boolean(value, "individual_digits", field + ".individual_digits", false)));
  } else if (type == "Split") {
    const json& pattern = f.require(value, "pattern", field + ".pattern");
    const bool is_regex = pattern.is_object() && pattern.contains("Regex");
    if (!is_regex && !(pattern.is_object() && pattern.contains("String")))
      f.fail(field + ".pattern", "expected {\"Regex\": ...} or {\"String\": ...}, got " + pattern.dump());
    const std::string text = f.string(pattern.at(is_regex ? "Regex" : "String"), field + ".pattern");
    std::optional<UnicodeRegex> regex;
    try {
      regex = is_regex ? UnicodeRegex::compile(text) : UnicodeRegex::literal(text);
    } catch (const std::invalid_argument& e) {
      f.fail(field + ".pattern", e.what());
    }
    const std::string behavior = f.string(f.require(value, "behavior", field + ".behavior"), field + ".behavior");
    steps.push_back(split_step(std::move(*regex), split_behavior(f, behavior, field + ".behavior"),
                               f.boolean(value, "invert", field + ".invert", false)));
  } else {
    f.fail(field, "type '" + type + "' is not supported (ByteLevel, Digits, Split and Sequence are)");
  }
}

// Only the ByteLevel decoder (alone or in a Sequence) turns byte-level tokens back into text.
void check_decoder(const JsonFields& f, const json& value, const std::string& field) {
  std::string type;
  f.typed(value, field, type);
  if (type == "ByteLevel") return;
  if (type == "Sequence") {
    const json& list = f.require(value, "decoders", field + ".decoders");
    for (size_t i = 0; i < list.size(); ++i) check_decoder(f, list[i], field + ".decoders[" + std::to_string(i) + "]");
    return;
  }
  f.fail(field, "type '" + type + "' is not supported (ByteLevel is)");
}

// The one special token a post_processor template puts before the text, if any. Templates that
// add tokens after the text (EOS, SEP) or around pairs are refused: eval adds only a BOS.
std::optional<int32_t> template_bos(const JsonFields& f, const json& value, const std::string& field) {
  std::string type;
  f.typed(value, field, type);
  if (type == "ByteLevel") return std::nullopt;  // trims offsets only
  if (type == "Sequence") {
    const json& list = f.require(value, "processors", field + ".processors");
    std::optional<int32_t> bos;
    for (size_t i = 0; i < list.size(); ++i)
      if (const auto b = template_bos(f, list[i], field + ".processors[" + std::to_string(i) + "]")) bos = b;
    return bos;
  }
  if (type != "TemplateProcessing")
    f.fail(field, "type '" + type + "' is not supported (ByteLevel, TemplateProcessing and Sequence are)");
  const json& single = f.require(value, "single", field + ".single");
  std::string shape;
  std::vector<std::string> specials;
  for (const json& item : single) {
    if (item.contains("Sequence")) {
      shape += "$";
    } else if (item.contains("SpecialToken") && item["SpecialToken"].is_object()) {
      shape += "S";
      const json& special = item["SpecialToken"];  // its "id" names the token: a number there is no name
      specials.push_back(special.contains("id") ? f.string(special["id"], field + ".single") : "");
    } else {
      f.fail(field + ".single", "item " + item.dump() + " is neither Sequence nor SpecialToken");
    }
  }
  if (shape == "$") return std::nullopt;
  if (shape != "S$")
    f.fail(field + ".single", "template " + single.dump() + " is not supported (only a leading BOS is)");
  const json& token = f.require(f.require(value, "special_tokens", field + ".special_tokens"), specials[0].c_str(),
                                field + ".special_tokens." + specials[0]);
  const json& ids = f.require(token, "ids", field + ".special_tokens." + specials[0] + ".ids");
  if (!ids.is_array() || ids.size() != 1) f.fail(field + ".special_tokens." + specials[0] + ".ids", "expected one id");
  return f.id(ids[0], field + ".special_tokens." + specials[0] + ".ids");
}

void read_model(const JsonFields& f, const json& model, BpeVocabulary& v) {
  std::string type;
  f.typed(model, "model", type);
  if (type != "BPE") f.fail("model.type", "'" + type + "' is not supported (byte-level BPE only)");
  const json& vocab = f.require(model, "vocab", "model.vocab");
  if (!vocab.is_object()) f.fail("model.vocab", "expected an object");
  for (const auto& [token, id] : vocab.items()) v.tokens.emplace_back(token, f.id(id, "model.vocab['" + token + "']"));

  const json& merges = f.require(model, "merges", "model.merges");
  if (!merges.is_array()) f.fail("model.merges", "expected an array");
  for (size_t i = 0; i < merges.size(); ++i) {
    const std::string field = "model.merges[" + std::to_string(i) + "]";
    const json& m = merges[i];
    if (m.is_array() && m.size() == 2) {  // [left, right], tokenizers >= 0.20
      v.merges.emplace_back(f.string(m[0], field), f.string(m[1], field));
    } else if (m.is_string()) {  // "left right"
      const std::string line = m.get<std::string>();
      if (line.rfind("#version", 0) == 0) continue;
      const size_t space = line.find(' ');
      if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos)
        f.fail(field, "'" + line + "' is not two tokens separated by one space");
      v.merges.emplace_back(line.substr(0, space), line.substr(space + 1));
    } else {
      f.fail(field, "expected \"left right\" or [left, right], got " + m.dump());
    }
  }

  if (const json* dropout = f.find(model, "dropout"); dropout && !(dropout->is_number() && dropout->get<double>() == 0))
    f.fail("model.dropout", dropout->dump() + " is not supported (ids would be random)");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (const json* affix = f.find(model, key); affix && !(affix->is_string() && affix->get<std::string>().empty()))
      f.fail(std::string("model.") + key, affix->dump() + " is not supported (byte-level BPE has none)");
  if (f.boolean(model, "byte_fallback", "model.byte_fallback", false))
    f.fail("model.byte_fallback", "true is not supported (byte-level BPE needs no byte fallback)");
  v.ignore_merges = f.boolean(model, "ignore_merges", "model.ignore_merges", false);
  v.fuse_unk = f.boolean(model, "fuse_unk", "model.fuse_unk", false);
  if (const json* unk = f.find(model, "unk_token")) {
    const std::string token = f.string(*unk, "model.unk_token");
    const auto it = vocab.find(token);
    if (it == vocab.end()) f.fail("model.unk_token", "'" + token + "' is not in model.vocab");
    v.unk_id = f.id(*it, "model.unk_token");
  }
}

// tokenizers ignores an added token's "id" (it only warns on a mismatch): a token already in the
// vocabulary keeps its id there, and a new one gets the next id after the model's vocabulary.
void read_added_tokens(const JsonFields& f, const json& root, const json& model_vocab, BpeVocabulary& v) {
  const json* list = f.find(root, "added_tokens");
  if (!list) return;
  if (!list->is_array()) f.fail("added_tokens", "expected an array");
  std::unordered_map<std::string, size_t> seen;  // content -> index in v.added_tokens
  auto next_id = static_cast<int32_t>(model_vocab.size());
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string field = "added_tokens[" + std::to_string(i) + "]";
    const json& t = (*list)[i];
    if (!t.is_object()) f.fail(field, "expected an object");
    AddedToken a;
    f.id(f.require(t, "id", field + ".id"), field + ".id");
    a.content = f.string(f.require(t, "content", field + ".content"), field + ".content");
    a.special = f.boolean(t, "special", field + ".special", false);
    a.normalized = f.boolean(t, "normalized", field + ".normalized", !a.special);
    a.single_word = f.boolean(t, "single_word", field + ".single_word", false);
    a.lstrip = f.boolean(t, "lstrip", field + ".lstrip", false);
    a.rstrip = f.boolean(t, "rstrip", field + ".rstrip", false);
    if (a.content.empty()) continue;  // tokenizers skips empty added tokens
    if (const auto again = seen.find(a.content); again != seen.end()) {
      a.id = v.added_tokens[again->second].id;  // the later entry's flags win
      v.added_tokens[again->second] = std::move(a);
      continue;
    }
    const auto in_vocab = model_vocab.find(a.content);
    a.id = in_vocab != model_vocab.end() ? f.id(*in_vocab, "model.vocab['" + a.content + "']") : next_id++;
    seen.emplace(a.content, v.added_tokens.size());
    v.added_tokens.push_back(std::move(a));
  }
}

std::optional<int32_t> vocabulary_id(const BpeVocabulary& v, const std::string& token) {
  for (const AddedToken& a : v.added_tokens)
    if (a.content == token) return a.id;
  for (const auto& [t, id] : v.tokens)
    if (t == token) return id;
  return std::nullopt;
}

// transformers' tokenizer_config.json: bos_token (a string or {"content": ...}) and add_bos_token.
void read_tokenizer_config(const std::string& path, BpeVocabulary& v) {
  if (!std::filesystem::exists(path)) return;
  const std::string text = formats::read_regular_file(path);
  const JsonFields f{path};
  json config;
  try {
    config = json::parse(text);
  } catch (const json::exception& e) {
    throw FormatError(path + ": not valid JSON: " + e.what());
  }
  if (const json* bos = f.find(config, "bos_token")) {
    const std::string token = bos->is_object()
                                  ? f.string(f.require(*bos, "content", "bos_token.content"), "bos_token.content")
                                  : f.string(*bos, "bos_token");
    v.bos_id = vocabulary_id(v, token);
    if (!v.bos_id) f.fail("bos_token", "'" + token + "' is not in the vocabulary");
  }
  v.add_bos = f.boolean(config, "add_bos_token", "add_bos_token", false);
  if (v.add_bos && !v.bos_id) f.fail("add_bos_token", "true, but there is no bos_token");
}

std::string vocabulary_field(BpeVocabularyError::Part part, const char* tokens, const char* merges, const char* added,
                             const char* special) {
  switch (part) {
    case BpeVocabularyError::Part::Tokens:
      return tokens;
    case BpeVocabularyError::Part::Merges:
      return merges;
    case BpeVocabularyError::Part::AddedTokens:
      return added;
    case BpeVocabularyError::Part::SpecialIds:
      return special;
  }
  return tokens;
}

bool has_byte_level_step(const PreTokenizer& p) {
  for (const PreTokenizerStep& s : p.steps())
    if (s.kind == PreTokenizerStep::Kind::ByteLevel) return true;
  return false;
}

// ---- GGUF ---------------------------------------------------------------------------------------

// What a tokenizer.ggml.pre name means: the tokenizer.json pre-tokenizer it was converted from,
// and llama.cpp's defaults for ignore_merges and add_bos.
struct GgufPreset {
  std::vector<PreTokenizerStep> steps;
  bool ignore_merges = false;
  bool add_bos = false;
};

std::optional<GgufPreset> gguf_preset(const std::string& name) {
  const auto is = [&](std::initializer_list<const char*> names) {
    for (const char* n : names)
      if (name == n) return true;
    return false;
  };
  GgufPreset p;
  if (is({"gpt-2", "phi-2", "mpt", "olmo"})) {
    p.steps.push_back(byte_level_step(false, true));
  } else if (is({"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b"})) {
    p.steps.push_back(digits_step(/*individual=*/true));
    p.steps.push_back(byte_level_step(false, true));
  } else if (is({"llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral"})) {
    p.steps.push_back(split_step(UnicodeRegex::compile(kLlama3Pattern), SplitBehavior::Isolated));
    p.steps.push_back(byte_level_step(false, false));
    p.ignore_merges = true;
    p.add_bos = true;
  } else if (name == "default") {
    // llama.cpp's fallback for files without tokenizer.ggml.pre: four splits, in this order.
    for (const char* pattern : {R"([\p{P}\$\+<=>\^~\|]+)", kGpt2Pattern, R"(\p{N}+)", "[0-9][0-9][0-9]"})
      p.steps.push_back(split_step(UnicodeRegex::compile(pattern), SplitBehavior::Isolated));
    p.steps.push_back(byte_level_step(false, false));
  } else {
    return std::nullopt;
  }
  return p;
}

[[noreturn]] void gguf_fail(const std::string& path, const std::string& key, const std::string& problem) {
  throw FormatError(path + ": key '" + key + "': " + problem);
}

// llama_token_type numbers of tokenizer.ggml.token_type.
constexpr int32_t kTokenTypeControl = 3;
constexpr int32_t kTokenTypeUserDefined = 4;

}  // namespace

BpeTokenizer BpeTokenizer::from_tokenizer_json(const std::string& path) {
  std::string text;
  try {
    text = formats::read_regular_file(path);  // a FIFO is refused before it can block
  } catch (const std::runtime_error& e) {
    throw FormatError(e.what());
  }
  return from_tokenizer_json_text(text, path, (std::filesystem::path(path).parent_path() / "tokenizer_config.json").string());
}

BpeTokenizer BpeTokenizer::from_tokenizer_json_text(const std::string& text, const std::string& path,
                                                    const std::string& tokenizer_config) {
  const JsonFields f{path};
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {
    throw FormatError(path + ": not valid JSON: " + e.what());
  }
  if (!root.is_object()) throw FormatError(path + ": not a tokenizer.json (expected an object)");
  if (const json* normalizer = f.find(root, "normalizer")) {
    std::string type;
    f.typed(*normalizer, "normalizer", type);
    f.fail("normalizer", "type '" + type + "' is not supported (only null is)");
  }
  BpeVocabulary v;
  const json& model = f.require(root, "model", "model");
  read_model(f, model, v);
  read_added_tokens(f, root, model.at("vocab"), v);
  std::vector<PreTokenizerStep> steps;
  if (const json* pre = f.find(root, "pre_tokenizer")) add_pre_tokenizer(f, *pre, "pre_tokenizer", steps);
  v.pre_tokenizer = PreTokenizer(std::move(steps));
  if (!has_byte_level_step(v.pre_tokenizer))
    f.fail("pre_tokenizer", "no ByteLevel step (only byte-level BPE is supported)");
  const json* decoder = f.find(root, "decoder");
  if (!decoder) f.fail("decoder", "null is not supported (ByteLevel is)");
  check_decoder(f, *decoder, "decoder");
  std::optional<int32_t> bos;
  if (const json* post = f.find(root, "post_processor")) bos = template_bos(f, *post, "post_processor");
  if (bos) {
    v.bos_id = bos;
    v.add_bos = true;
  } else if (!tokenizer_config.empty()) {
    read_tokenizer_config(tokenizer_config, v);
  }
  try {
    return BpeTokenizer(std::move(v));
  } catch (const BpeVocabularyError& e) {
    f.fail(vocabulary_field(e.part, "model.vocab", "model.merges", "added_tokens", "bos/unk token"), e.what());
  }
}

BpeTokenizer BpeTokenizer::from_gguf(const formats::GgufFile& gguf) {
  const std::string& path = gguf.path();
  const std::string model = gguf.get_string("tokenizer.ggml.model");
  if (model != "gpt2")
    gguf_fail(path, "tokenizer.ggml.model", "'" + model + "' is not supported (byte-level BPE, 'gpt2', only)");
  const std::vector<std::string> tokens = gguf.get_string_array("tokenizer.ggml.tokens");
  const std::vector<std::string> merges = gguf.get_string_array("tokenizer.ggml.merges");
  std::vector<int32_t> types;
  if (gguf.find("tokenizer.ggml.token_type")) {
    types = gguf.get_i32_array("tokenizer.ggml.token_type");
    if (types.size() < tokens.size())
      gguf_fail(path, "tokenizer.ggml.token_type",
                std::to_string(types.size()) + " types for " + std::to_string(tokens.size()) + " tokens");
  }
  // llama.cpp reads a file without tokenizer.ggml.pre as "default" (and warns).
  const std::string pre = gguf.find("tokenizer.ggml.pre") ? gguf.get_string("tokenizer.ggml.pre") : "default";
  std::optional<GgufPreset> preset = gguf_preset(pre);
  if (!preset)
    gguf_fail(path, "tokenizer.ggml.pre",
              "'" + pre + "' is not supported (gpt-2, smollm, starcoder, llama-bpe, llama3, default, ...)");

  BpeVocabulary v;
  v.tokens.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    const auto id = static_cast<int32_t>(i);
    v.tokens.emplace_back(tokens[i], id);
    if (!types.empty() && (types[i] == kTokenTypeControl || types[i] == kTokenTypeUserDefined)) {
      AddedToken a;
      a.id = id;
      a.content = tokens[i];
      a.special = types[i] == kTokenTypeControl;
      v.added_tokens.push_back(std::move(a));
    }
  }
  v.merges.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const size_t space = merges[i].find(' ', 1);  // llama.cpp: the first space after the first byte
    if (space == std::string::npos)
      gguf_fail(path, "tokenizer.ggml.merges", "merge " + std::to_string(i) + " ('" + merges[i] + "') has no space");
    v.merges.emplace_back(merges[i].substr(0, space), merges[i].substr(space + 1));
  }
  v.pre_tokenizer = PreTokenizer(std::move(preset->steps));
  v.ignore_merges = preset->ignore_merges;
  if (gguf.find("tokenizer.ggml.bos_token_id")) {
    const uint64_t bos = gguf.get_uint("tokenizer.ggml.bos_token_id");
    if (bos >= tokens.size())
      gguf_fail(path, "tokenizer.ggml.bos_token_id", std::to_string(bos) + " is outside the vocabulary");
    v.bos_id = static_cast<int32_t>(bos);
  }
  const bool has_add_bos = gguf.find("tokenizer.ggml.add_bos_token") != nullptr;
  v.add_bos = has_add_bos ? gguf.get_bool("tokenizer.ggml.add_bos_token") : preset->add_bos;
  if (v.add_bos && !v.bos_id)
    gguf_fail(path, "tokenizer.ggml.add_bos_token", "true, but tokenizer.ggml.bos_token_id is missing");
  try {
    return BpeTokenizer(std::move(v));
  } catch (const BpeVocabularyError& e) {
    gguf_fail(path,
              vocabulary_field(e.part, "tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.ggml.token_type",
                               "tokenizer.ggml.bos_token_id"),
              e.what());
  }
}

BpeTokenizer BpeTokenizer::from_file(const std::string& path) {
  if (std::filesystem::is_directory(path))
    return from_tokenizer_json((std::filesystem::path(path) / "tokenizer.json").string());
  if (formats::is_gguf_file(path)) return from_gguf(formats::GgufFile::open(path));
  if (std::filesystem::path(path).extension() == ".gguf") throw FormatError(path + ": not a GGUF file (no magic)");
  return from_tokenizer_json(path);
}

}  // namespace longrope
