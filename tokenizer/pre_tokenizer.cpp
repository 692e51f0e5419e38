// PreTokenizer steps and GPT-2's byte-to-character map.
#include "tokenizer/pre_tokenizer.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

namespace longrope {

const char kGpt2Pattern[] = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const char kLlama3Pattern[] =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

namespace {

// bytes_to_unicode: the code point each byte stands for. Code points stay below 0x100 + 68.
struct ByteLevelMap {
  std::array<std::string, 256> utf8;     // byte -> its character, UTF-8 encoded
  std::array<int16_t, 0x144> byte_of{};  // code point -> byte, -1 where none

  ByteLevelMap() {
    byte_of.fill(-1);
    uint32_t next_extra = 0x100;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      const uint32_t cp = printable ? static_cast<uint32_t>(b) : next_extra++;
      byte_of[cp] = static_cast<int16_t>(b);
      utf8[b] = cp < 0x80 ? std::string(1, static_cast<char>(cp))
                          : std::string{static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
    }
  }
};

const ByteLevelMap& byte_level_map() {
  static const ByteLevelMap map;
  return map;
}

struct Piece {
  size_t begin, end;
  bool is_match;
};

// Pieces covering all of `text`: the matches of `pattern` and the gaps between them.
std::vector<Piece> cut(const UnicodeRegex& pattern, std::string_view text, bool invert) {
  std::vector<Piece> pieces;
  size_t previous = 0;
  for (const auto& [begin, end] : pattern.find_all(text)) {
    if (previous != begin) pieces.push_back({previous, begin, invert});
    pieces.push_back({begin, end, !invert});
    previous = end;
  }
  if (previous != text.size()) pieces.push_back({previous, text.size(), invert});
  return pieces;
}

// tokenizers' NormalizedString::split: which pieces survive, and which join a neighbour.
std::vector<std::pair<size_t, size_t>> apply_behavior(const std::vector<Piece>& pieces, SplitBehavior behavior) {
  std::vector<std::pair<size_t, size_t>> out;
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::Isolated:
      for (const Piece& p : pieces) out.emplace_back(p.begin, p.end);
      break;
    case SplitBehavior::Removed:
      for (const Piece& p : pieces)
        if (!p.is_match) out.emplace_back(p.begin, p.end);
      break;
    case SplitBehavior::Contiguous:
      for (const Piece& p : pieces) {
        if (p.is_match == previous_match && !out.empty())
          out.back().second = p.end;
        else
          out.emplace_back(p.begin, p.end);
        previous_match = p.is_match;
      }
      break;
    case SplitBehavior::MergedWithPrevious:
      for (const Piece& p : pieces) {
        if (p.is_match && !previous_match && !out.empty())
          out.back().second = p.end;
        else
          out.emplace_back(p.begin, p.end);
        previous_match = p.is_match;
      }
      break;
    case SplitBehavior::MergedWithNext:
      for (auto p = pieces.rbegin(); p != pieces.rend(); ++p) {
        if (p->is_match && !previous_match && !out.empty())
          out.back().first = p->begin;
        else
          out.emplace_back(p->begin, p->end);
        previous_match = p->is_match;
      }
      std::reverse(out.begin(), out.end());
      break;
  }
  return out;
}

}  // namespace

PreTokenizerStep split_step(UnicodeRegex pattern, SplitBehavior behavior, bool invert) {
  PreTokenizerStep step;
  step.kind = PreTokenizerStep::Kind::Split;
  step.pattern = std::move(pattern);
  step.behavior = behavior;
  step.invert = invert;
  return step;
}

PreTokenizerStep digits_step(bool individual) {
  // tokenizers tests char::is_numeric (categories Nd, Nl, No) per character; a run of such
  // characters, merged by Contiguous, is what \p{N}+ matches.
  return split_step(UnicodeRegex::compile(individual ? R"(\p{N})" : R"(\p{N}+)"), SplitBehavior::Isolated);
}

PreTokenizerStep byte_level_step(bool add_prefix_space, bool use_regex) {
  PreTokenizerStep step;
  step.kind = PreTokenizerStep::Kind::ByteLevel;
  if (use_regex) step.pattern = UnicodeRegex::compile(kGpt2Pattern);
  step.add_prefix_space = add_prefix_space;
  return step;
}

void PreTokenizer::apply(size_t step_index, std::string_view piece, const WordSink& sink) const {
  if (piece.empty()) return;  // tokenizers drops empty splits after every step
  if (step_index == steps_.size()) {
    sink(piece);
    return;
  }
  const PreTokenizerStep& step = steps_[step_index];
  if (step.kind == PreTokenizerStep::Kind::Split) {
    for (const auto& [begin, end] : apply_behavior(cut(*step.pattern, piece, step.invert), step.behavior))
      apply(step_index + 1, piece.substr(begin, end - begin), sink);
    return;
  }
  // ByteLevel: its prefix space goes on every piece, not only the first of the text.
  std::string prefixed;
  if (step.add_prefix_space && piece.front() != ' ') {
    prefixed.reserve(piece.size() + 1);
    prefixed.append(" ").append(piece);
    piece = prefixed;
  }
  if (!step.pattern) {
    apply(step_index + 1, byte_level_encode(piece), sink);
    return;
  }
  for (const Piece& word : cut(*step.pattern, piece, /*invert=*/false))
    apply(step_index + 1, byte_level_encode(piece.substr(word.begin, word.end - word.begin)), sink);
}

std::string byte_level_encode(std::string_view bytes) {
  const ByteLevelMap& map = byte_level_map();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) out += map.utf8[b];
  return out;
}

std::optional<std::string> byte_level_decode(std::string_view text) {
  const ByteLevelMap& map = byte_level_map();
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    uint32_t cp;
    if (lead < 0x80) {
      cp = lead;
      i += 1;
    } else if ((lead & 0xE0) == 0xC0 && i + 1 < text.size()) {
      cp = ((lead & 0x1Fu) << 6) | (static_cast<unsigned char>(text[i + 1]) & 0x3Fu);
      i += 2;
    } else {
      return std::nullopt;  // three- and four-byte characters are all outside the map
    }
    if (cp >= map.byte_of.size() || map.byte_of[cp] < 0) return std::nullopt;
    out += static_cast<char>(map.byte_of[cp]);
  }
  return out;
}

}  // namespace longrope
