// BpeTokenizer: added-token splitting, byte-level BPE merges and decoding, in tokenizers' order:
// added tokens (raw pass, then normalized pass) -> pre-tokenizer words -> BPE per word.
#include "tokenizer/bpe_tokenizer.h"

#include "formats/format_error.h"

#include <algorithm>
#include <queue>
#include <stdexcept>

namespace longrope {
namespace {

uint64_t pair_key(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

// The code point of the character starting at text[i] (valid UTF-8).
uint32_t code_point_at(std::string_view text, size_t i) {
  const auto* b = reinterpret_cast<const unsigned char*>(text.data()) + i;
  switch (utf8_length(b[0])) {
    case 1:
      return b[0];
    case 2:
      return ((b[0] & 0x1Fu) << 6) | (b[1] & 0x3Fu);
    case 3:
      return ((b[0] & 0x0Fu) << 12) | ((b[1] & 0x3Fu) << 6) | (b[2] & 0x3Fu);
    default:
      return ((b[0] & 0x07u) << 18) | ((b[1] & 0x3Fu) << 12) | ((b[2] & 0x3Fu) << 6) | (b[3] & 0x3Fu);
  }
}

size_t previous_character_start(std::string_view text, size_t i) {
  do --i;
  while (i > 0 && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80);
  return i;
}

// Unicode White_Space: what the Rust regex \s of tokenizers' lstrip / rstrip matches.
bool is_white_space(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Rust's Unicode \w (alphabetic, marks, decimal digits, connectors, joiners), near enough for
// single_word tokens.
bool is_word_character(std::string_view text, size_t i) {
  static const UnicodeRegex word = UnicodeRegex::compile(R"([\p{L}\p{M}\p{Nd}\p{Nl}\p{Pc}\x{200C}\x{200D}])");
  return !word.find_all(text.substr(i, utf8_length(static_cast<unsigned char>(text[i])))).empty();
}

// Where the whitespace ending `text` begins (text.size() when there is none).
size_t trailing_space_begin(std::string_view text) {
  size_t begin = text.size();
  while (begin > 0) {
    const size_t previous = previous_character_start(text, begin);
    if (!is_white_space(code_point_at(text, previous))) break;
    begin = previous;
  }
  return begin;
}

size_t leading_space_length(std::string_view text) {
  size_t end = 0;
  while (end < text.size() && is_white_space(code_point_at(text, end)))
    end += utf8_length(static_cast<unsigned char>(text[end]));
  return end;
}

}  // namespace

BpeTokenizer::BpeTokenizer(BpeVocabulary vocabulary)
    : added_tokens_(std::move(vocabulary.added_tokens)),
      pre_tokenizer_(std::move(vocabulary.pre_tokenizer)),
      ignore_merges_(vocabulary.ignore_merges),
      unk_id_(vocabulary.unk_id),
      fuse_unk_(vocabulary.fuse_unk),
      bos_id_(vocabulary.bos_id),
      add_bos_(vocabulary.add_bos) {
  using Part = BpeVocabularyError::Part;
  int32_t largest_id = -1;
  Part largest_part = Part::Tokens;
  for (const auto& [token, id] : vocabulary.tokens) {
    if (token.empty()) throw BpeVocabularyError(Part::Tokens, "an empty token has id " + std::to_string(id));
    if (id < 0)
      throw BpeVocabularyError(Part::Tokens, "token '" + token + "' has the negative id " + std::to_string(id));
    const auto [it, inserted] = vocab_.emplace(token, id);
    if (!inserted)
      throw BpeVocabularyError(Part::Tokens, "token '" + token + "' has two ids, " + std::to_string(it->second) +
                                                 " and " + std::to_string(id));
    largest_id = std::max(largest_id, id);
  }
  for (const AddedToken& t : added_tokens_) {
    if (t.content.empty())
      throw BpeVocabularyError(Part::AddedTokens, "added token " + std::to_string(t.id) + " is empty");
    if (t.id < 0)
      throw BpeVocabularyError(Part::AddedTokens,
                               "added token '" + t.content + "' has the negative id " + std::to_string(t.id));
    const auto [it, inserted] = added_ids_.emplace(t.content, t.id);
    if (!inserted && it->second != t.id)
      throw BpeVocabularyError(Part::AddedTokens, "added token '" + t.content + "' has two ids, " +
                                                      std::to_string(it->second) + " and " + std::to_string(t.id));
    if (t.id > largest_id) largest_part = Part::AddedTokens;
    largest_id = std::max(largest_id, t.id);
  }
  // Ids index a table of largest id + 1 entries. A vocabulary of n tokens numbers them 0 .. n − 1 (gaps
  // allowed); one far id alone would allocate its whole range (10^8: 3.5 GB from a 1 KB file).
  const int64_t token_count = static_cast<int64_t>(vocabulary.tokens.size() + added_tokens_.size());
  const int64_t id_limit = std::min<int64_t>(kMaxVocabularyIds, 2 * token_count + 256);
  if (largest_id >= id_limit)
    throw BpeVocabularyError(largest_part, "id " + std::to_string(largest_id) + " is beyond what a vocabulary of " +
                                               std::to_string(token_count) + " tokens numbers (ids below " + std::to_string(id_limit) +
                                               ", at most 2^24)");
  id_to_token_.resize(static_cast<size_t>(largest_id + 1));
  for (const auto& [token, id] : vocabulary.tokens) {
    if (!id_to_token_[id].empty())
      throw BpeVocabularyError(Part::Tokens,
                               "id " + std::to_string(id) + " is both '" + id_to_token_[id] + "' and '" + token + "'");
    id_to_token_[id] = token;
  }
  // tokenizers looks ids up among the added tokens first.
  for (const AddedToken& t : added_tokens_) id_to_token_[t.id] = t.content;

  for (size_t rank = 0; rank < vocabulary.merges.size(); ++rank) {
    const std::string& left = vocabulary.merges[rank].first;  // not a structured binding: C++17 lambdas cannot capture one
    const std::string& right = vocabulary.merges[rank].second;
    const auto where = [&] { return "merge " + std::to_string(rank) + " ('" + left + " " + right + "'): "; };
    const auto l = vocab_.find(left), r = vocab_.find(right), m = vocab_.find(left + right);
    if (l == vocab_.end()) throw BpeVocabularyError(Part::Merges, where() + "'" + left + "' is not in the vocabulary");
    if (r == vocab_.end()) throw BpeVocabularyError(Part::Merges, where() + "'" + right + "' is not in the vocabulary");
    if (m == vocab_.end())
      throw BpeVocabularyError(Part::Merges, where() + "'" + left + right + "' is not in the vocabulary");
    // A repeated pair keeps its last rank, as tokenizers' merge map does.
    merges_.insert_or_assign(pair_key(l->second, r->second), Merge{static_cast<int32_t>(rank), m->second});
  }

  for (uint32_t cp = 0; cp < byte_level_char_id_.size(); ++cp) {
    const std::string utf8 =
        cp < 0x80 ? std::string(1, static_cast<char>(cp))
                  : std::string{static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
    const auto it = vocab_.find(utf8);
    byte_level_char_id_[cp] = it == vocab_.end() ? -1 : it->second;
  }

  for (uint32_t i = 0; i < added_tokens_.size(); ++i) {
    AddedTokenIndex& pass = added_tokens_[i].normalized ? normalized_pass_ : raw_pass_;
    pass.by_first_byte[static_cast<unsigned char>(added_tokens_[i].content[0])].push_back(i);
    pass.empty = false;
  }
  for (AddedTokenIndex* pass : {&raw_pass_, &normalized_pass_})
    for (auto& candidates : pass->by_first_byte)
      std::stable_sort(candidates.begin(), candidates.end(), [&](uint32_t a, uint32_t b) {
        return added_tokens_[a].content.size() > added_tokens_[b].content.size();
      });

  const auto check_id = [&](const char* what, std::optional<int32_t> id) {
    if (id && (*id < 0 || *id >= vocab_size() || id_to_token_[*id].empty()))
      throw BpeVocabularyError(Part::SpecialIds, std::string(what) + " id " + std::to_string(*id) + " names no token");
  };
  check_id("bos", bos_id_);
  check_id("unk", unk_id_);
  if (add_bos_ && !bos_id_) throw BpeVocabularyError(Part::SpecialIds, "add_bos is set but there is no bos id");
}

const std::string& BpeTokenizer::token(int32_t id) const {
  if (id < 0 || id >= vocab_size())
    throw std::out_of_range("token id " + std::to_string(id) + " is outside the vocabulary");
  return id_to_token_[id];
}

std::optional<int32_t> BpeTokenizer::token_id(const std::string& token) const {
  if (const auto it = added_ids_.find(token); it != added_ids_.end()) return it->second;
  if (const auto it = vocab_.find(token); it != vocab_.end()) return it->second;
  return std::nullopt;
}

std::vector<int32_t> BpeTokenizer::encode(std::string_view text) const {
  if (const size_t bad = invalid_utf8_offset(text); bad != std::string_view::npos)
    throw std::invalid_argument("text is not valid UTF-8 at byte " + std::to_string(bad));
  std::vector<Segment> segments{{0, text.size(), -1}};
  segments = split_added(text, std::move(segments), raw_pass_);
  segments = split_added(text, std::move(segments), normalized_pass_);
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3);
  WordCache cache;  // books repeat their words: most words are merged once
  for (const Segment& s : segments) {
    if (s.token >= 0) {
      ids.push_back(s.token);
      continue;
    }
    pre_tokenizer_.split(text.substr(s.begin, s.end - s.begin),
                         [&](std::string_view word) { encode_word(word, cache, ids); });
  }
  return ids;
}

// tokenizers' AddedVocabulary::find_matches: leftmost-longest matches, left to right, with each
// token's single_word / lstrip / rstrip rules.
std::vector<BpeTokenizer::Segment> BpeTokenizer::split_added(std::string_view text, std::vector<Segment> segments,
                                                             const AddedTokenIndex& index) const {
  if (index.empty) return segments;
  std::vector<Segment> out;
  for (const Segment& segment : segments) {
    if (segment.token >= 0) {
      out.push_back(segment);
      continue;
    }
    const std::string_view sentence = text.substr(segment.begin, segment.end - segment.begin);
    size_t kept_until = 0;  // end of the last token taken
    size_t search_from = 0;
    while (search_from < sentence.size()) {
      const AddedToken* found = nullptr;
      size_t start = 0;
      for (size_t i = search_from; i < sentence.size() && !found; ++i) {
        for (uint32_t k : index.by_first_byte[static_cast<unsigned char>(sentence[i])]) {
          if (sentence.compare(i, added_tokens_[k].content.size(), added_tokens_[k].content) == 0) {
            found = &added_tokens_[k];
            start = i;
            break;
          }
        }
      }
      if (!found) break;
      size_t stop = start + found->content.size();
      search_from = stop;
      if (found->single_word) {
        const bool free_before = start == 0 || !is_word_character(sentence, previous_character_start(sentence, start));
        const bool free_after = stop == sentence.size() || !is_word_character(sentence, stop);
        if (!free_before || !free_after) continue;
      }
      if (found->lstrip) start = std::max(trailing_space_begin(sentence.substr(0, start)), kept_until);
      if (found->rstrip) stop += leading_space_length(sentence.substr(stop));
      if (kept_until < start) out.push_back({segment.begin + kept_until, segment.begin + start, -1});
      out.push_back({segment.begin + start, segment.begin + stop, found->id});
      kept_until = stop;
    }
    if (kept_until < sentence.size()) out.push_back({segment.begin + kept_until, segment.end, -1});
  }
  return out;
}

void BpeTokenizer::encode_word(std::string_view word, WordCache& cache, std::vector<int32_t>& out) const {
  if (ignore_merges_) {
    if (const auto it = vocab_.find(std::string(word)); it != vocab_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  const auto [it, inserted] = cache.try_emplace(std::string(word));
  if (inserted) it->second = merge_word(word);
  out.insert(out.end(), it->second.begin(), it->second.end());
}

std::vector<uint8_t> BpeTokenizer::bytes_without_token() const {
  std::vector<uint8_t> missing;
  for (int b = 0; b < 256; ++b) {
    const char byte = static_cast<char>(b);
    if (!vocab_.count(byte_level_encode(std::string_view(&byte, 1)))) missing.push_back(static_cast<uint8_t>(b));
  }
  return missing;
}

std::optional<int32_t> BpeTokenizer::character_id(std::string_view character) const {
  const uint32_t cp = code_point_at(character, 0);
  if (cp < byte_level_char_id_.size()) {
    const int32_t id = byte_level_char_id_[cp];
    return id < 0 ? std::nullopt : std::optional<int32_t>(id);
  }
  const auto it = vocab_.find(std::string(character));
  return it == vocab_.end() ? std::nullopt : std::optional<int32_t>(it->second);
}

// tokenizers' Word::merge_all: repeatedly merge the pair of lowest rank, leftmost first, on a
// linked list of symbols with a heap of candidate pairs (stale entries are skipped when popped).
std::vector<int32_t> BpeTokenizer::merge_word(std::string_view word) const {
  struct Symbol {
    int32_t id;
    int32_t previous, next;  // -1: none
    bool removed;
  };
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  const auto add = [&](int32_t id) { symbols.push_back({id, 0, 0, false}); };
  bool pending_unk = false;
  for (size_t i = 0; i < word.size();) {
    const size_t length = utf8_length(static_cast<unsigned char>(word[i]));
    const std::optional<int32_t> id = character_id(word.substr(i, length));
    i += length;
    if (id) {
      if (pending_unk) add(*unk_id_), pending_unk = false;
      add(*id);
    } else if (unk_id_) {
      if (pending_unk && !fuse_unk_) add(*unk_id_);
      pending_unk = true;
    }  // without an unk token, tokenizers drops the character
  }
  if (pending_unk) add(*unk_id_);
  const auto n = static_cast<int32_t>(symbols.size());
  for (int32_t i = 0; i < n; ++i) {
    symbols[i].previous = i - 1;
    symbols[i].next = i + 1 < n ? i + 1 : -1;
  }

  struct Candidate {
    int32_t rank, position, merged_id;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : position > o.position; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  const auto consider = [&](int32_t position) {
    const int32_t next = symbols[position].next;
    if (next < 0) return;
    const auto it = merges_.find(pair_key(symbols[position].id, symbols[next].id));
    if (it != merges_.end()) queue.push({it->second.rank, position, it->second.merged_id});
  };
  for (int32_t i = 0; i + 1 < n; ++i) consider(i);

  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.position];
    if (left.removed || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    const auto it = merges_.find(pair_key(left.id, right.id));
    if (it == merges_.end() || it->second.merged_id != top.merged_id) continue;  // stale
    left.id = top.merged_id;
    right.removed = true;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].previous = top.position;
    if (left.previous >= 0) consider(left.previous);
    consider(top.position);
  }

  std::vector<int32_t> ids;
  for (int32_t i = n > 0 ? 0 : -1; i >= 0; i = symbols[i].next) ids.push_back(symbols[i].id);
  return ids;
}

std::string BpeTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string text;
  for (const int32_t id : ids) {
    if (id < 0 || id >= vocab_size() || id_to_token_[id].empty())
      throw std::out_of_range("token id " + std::to_string(id) + " is not in the vocabulary (" +
                              std::to_string(vocab_size()) + " ids)");
    const std::string& token = id_to_token_[id];
    // tokenizers' ByteLevel decoder: a token with any character outside the byte map (an added
    // token such as "<|reserved special token 0|>") passes through as it is.
    const std::optional<std::string> bytes = byte_level_decode(token);
    text += bytes ? *bytes : token;
  }
  return text;
}

DroppedBytes dropped_bytes(const BpeTokenizer& tokenizer, std::string_view text) {
  // A byte whose byte-level character is not a token can be no part of any token built by merges:
  // the encoder drops it. Which bytes those are is known up front.
  std::array<bool, 256> missing{};
  for (uint8_t b : tokenizer.bytes_without_token()) missing[b] = true;
  DroppedBytes d;
  for (size_t i = 0; i < text.size(); ++i)
    if (missing[static_cast<uint8_t>(text[i])]) {
      if (d.count++ == 0) d.first_offset = i;
    }
  return d;
}

std::vector<int32_t> encode_keeping_every_byte(const BpeTokenizer& tokenizer, std::string_view text, const std::string& source) {
  const DroppedBytes d = dropped_bytes(tokenizer, text);
  const size_t count = d.count, first = d.first_offset;
  if (count > 0)
    throw std::runtime_error(source + ": " + std::to_string(count) + " bytes have no token in the vocabulary (the first, byte " +
                             std::to_string(static_cast<uint8_t>(text[first])) + ", at offset " + std::to_string(first) +
                             "): the tokenizer would drop them");
  return tokenizer.encode(text);
}

}  // namespace longrope
