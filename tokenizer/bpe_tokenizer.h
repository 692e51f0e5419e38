// BpeTokenizer: byte-level BPE (GPT-2, Llama 3, SmolLM2, ...) from a Hugging Face tokenizer.json or
// from GGUF metadata, giving the ids the Hugging Face `tokenizers` library gives. No LibTorch.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tokenizer/pre_tokenizer.h"

namespace longrope::formats {
class GgufFile;
}

namespace longrope {

// A token cut out of the raw text before pre-tokenization: tokenizer.json's added_tokens, GGUF's
// control (special) and user-defined tokens.
struct AddedToken {
  int32_t id = 0;
  std::string content;  // the raw text it matches
  bool special = false;
  bool normalized = false;   // matched in a second pass, after the others (tokenizers' order)
  bool single_word = false;  // only where no word character touches it
  bool lstrip = false;       // takes the whitespace before it
  bool rstrip = false;       // takes the whitespace after it
};

// The most ids a vocabulary may number (the most a model's config may declare): ids index a table.
inline constexpr int64_t kMaxVocabularyIds = int64_t{1} << 24;

// What a BpeTokenizer is built from; the loaders fill it, tests write one by hand.
struct BpeVocabulary {
  std::vector<std::pair<std::string, int32_t>> tokens;      // the model's vocabulary (byte-level strings)
  std::vector<std::pair<std::string, std::string>> merges;  // highest priority first
  std::vector<AddedToken> added_tokens;
  PreTokenizer pre_tokenizer;
  bool ignore_merges = false;     // a word that is itself a token stays whole (Llama 3)
  std::optional<int32_t> unk_id;  // for characters outside the vocabulary; none: they are dropped
  bool fuse_unk = false;          // consecutive unknown characters give one unk
  std::optional<int32_t> bos_id;  // the model's beginning-of-sequence token
  bool add_bos = false;           // whether the model expects it before every sequence
};

// What BpeTokenizer's constructor throws; `part` lets a loader name the field of its own file.
class BpeVocabularyError : public std::invalid_argument {
 public:
  enum class Part { Tokens, Merges, AddedTokens, SpecialIds };
  BpeVocabularyError(Part part, const std::string& message) : std::invalid_argument(message), part(part) {}
  Part part;
};

// Immutable after construction; encode and decode are thread-safe (the word cache lives per call).
class BpeTokenizer {
 public:
  // Every problem is a formats::FormatError, one line naming the file and the field:
  // "tokenizer.json: normalizer: type 'NFC' is not supported", "m.gguf: key 'tokenizer.ggml.pre': ...".
  // A tokenizer_config.json beside tokenizer.json supplies bos_token / add_bos_token when the
  // post_processor names no BOS.
  static BpeTokenizer from_tokenizer_json(const std::string& path);
  // The same from the file's text; `source` names it in errors, `tokenizer_config` (may be empty) is
  // the tokenizer_config.json to read BOS from.
  static BpeTokenizer from_tokenizer_json_text(const std::string& text, const std::string& source,
                                               const std::string& tokenizer_config = "");
  static BpeTokenizer from_gguf(const formats::GgufFile& gguf);
  // A GGUF file (by its magic), a tokenizer.json, or a directory holding a tokenizer.json.
  static BpeTokenizer from_file(const std::string& path);

  // Throws BpeVocabularyError naming the token, id or merge that does not fit the rest.
  explicit BpeTokenizer(BpeVocabulary vocabulary);

  // The ids of `text`, without BOS. Throws std::invalid_argument naming the byte offset when `text`
  // is not valid UTF-8 (tokenizers accepts only Unicode strings).
  std::vector<int32_t> encode(std::string_view text) const;
  // The bytes the ids stand for (added tokens as their text). Throws std::out_of_range for an id
  // that names no token.
  std::string decode(const std::vector<int32_t>& ids) const;

  std::optional<int32_t> bos_id() const { return bos_id_; }
  bool add_bos() const { return add_bos_; }
  int64_t vocab_size() const { return static_cast<int64_t>(id_to_token_.size()); }  // largest id + 1
  // The token's string (byte-level form, or an added token's content); empty for an unused id.
  const std::string& token(int32_t id) const;
  std::optional<int32_t> token_id(const std::string& token) const;  // added tokens first
  // The bytes whose byte-level character is not a token: text holding one of them loses it when
  // encoded (tokenizers drops it too). Empty for every real byte-level vocabulary.
  std::vector<uint8_t> bytes_without_token() const;

 private:
  struct Merge {
    int32_t rank;
    int32_t merged_id;
  };
  // Added tokens of one matching pass (indices into added_tokens_), by first byte, longest first.
  struct AddedTokenIndex {
    std::array<std::vector<uint32_t>, 256> by_first_byte;
    bool empty = true;
  };
  // A stretch of the input: text (token < 0) or an added token.
  struct Segment {
    size_t begin, end;
    int32_t token;
  };
  using WordCache = std::unordered_map<std::string, std::vector<int32_t>>;

  std::vector<Segment> split_added(std::string_view text, std::vector<Segment> segments,
                                   const AddedTokenIndex& index) const;
  void encode_word(std::string_view word, WordCache& cache, std::vector<int32_t>& out) const;
  std::vector<int32_t> merge_word(std::string_view word) const;
  std::optional<int32_t> character_id(std::string_view character) const;

  std::unordered_map<std::string, int32_t> vocab_;  // the model's tokens
  std::unordered_map<uint64_t, Merge> merges_;      // (left id << 32 | right id) -> merge
  std::array<int32_t, 0x144> byte_level_char_id_;   // by code point (byte-level ones are < 0x144); -1: none
  std::vector<AddedToken> added_tokens_;
  AddedTokenIndex raw_pass_, normalized_pass_;
  std::unordered_map<std::string, int32_t> added_ids_;
  std::vector<std::string> id_to_token_;
  PreTokenizer pre_tokenizer_;
  bool ignore_merges_ = false;
  std::optional<int32_t> unk_id_;
  bool fuse_unk_ = false;
  std::optional<int32_t> bos_id_;
  bool add_bos_ = false;
};

// The bytes of `text` the encoder drops (their byte-level character is not a token), as transformers'
// tokenizers drops them too.
struct DroppedBytes {
  size_t count = 0;
  size_t first_offset = 0;
};
DroppedBytes dropped_bytes(const BpeTokenizer& tokenizer, std::string_view text);

// The ids of `text`, refusing to drop any of it: throws std::runtime_error naming `source` and the
// first byte the vocabulary has no token for (real vocabularies lack only bytes that UTF-8 text
// does not hold, and rare control bytes), and std::invalid_argument for text that is not UTF-8.
std::vector<int32_t> encode_keeping_every_byte(const BpeTokenizer& tokenizer, std::string_view text, const std::string& source);

}  // namespace longrope
