// The modes of a search, each parsed once from its name (search's options) and printed from the same
// table: the optimizer, what a candidate is scored by, the λ bound, the shape of the space, where the
// winner is chosen and LongRoPE2's critical dimension. Run files record the names.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "util/errors.h"
#include "util/named_enum.h"

namespace longrope {

// evolution: the paper's search; gradient: the seeds scored, then Adam steps on λ from the best of them
// (search/gradient_refinement.h); both: the evolution, then steps from its best.
enum class Optimizer { Evolution, Gradient, Both };
inline constexpr std::array<EnumName<Optimizer>, 3> kOptimizerNames = {
    {{Optimizer::Evolution, "evolution"}, {Optimizer::Gradient, "gradient"}, {Optimizer::Both, "both"}}};

// ppl: the perplexity of a candidate's windows (the paper's); needle: the NLL of a needle's answer only
// (LongRoPE2's: eval/needle.h). Held-out sets are scored by perplexity either way.
enum class Objective { Perplexity, Needle };
inline constexpr std::array<EnumName<Objective>, 2> kObjectiveNames = {{{Objective::Perplexity, "ppl"}, {Objective::Needle, "needle"}}};

// λ's upper bound: 1.25·s (the paper's) or 1 + s (the reference code's grid).
enum class LambdaBound { Paper, Reference };
inline constexpr std::array<EnumName<LambdaBound>, 2> kLambdaBoundNames = {
    {{LambdaBound::Paper, "paper"}, {LambdaBound::Reference, "reference"}}};

// paper: λ non-decreasing on the grid, every pair searched; piecewise: the reference's dim_piece_mono
// (λ = 1 up to a searched α, s above a searched β, non-decreasing between).
enum class SpaceShape { Paper, Piecewise };
inline constexpr std::array<EnumName<SpaceShape>, 2> kSpaceShapeNames = {{{SpaceShape::Paper, "paper"}, {SpaceShape::Piecewise, "piecewise"}}};

// Where the winner is chosen among the best few: auto (windows of the search documents after the
// search's own), none (the best on the search windows, as the reference does) or a directory of
// documents (selected as the search's).
struct ValidationChoice {
  enum class Kind { Auto, None, Directory } kind = Kind::Auto;
  std::string directory;

  static ValidationChoice parse(const std::string& text);  // "auto", "none", else a directory
  std::string text() const;                                // as parsed from
  bool is_directory() const { return kind == Kind::Directory; }
};

// LongRoPE2's critical dimension c: none (every pair searched, the paper's space), auto (the theoretical
// value, rope/rope_scaling.h critical_dimension), auto-K (K pairs below it) or a pair index.
struct CriticalDim {
  enum class Kind { None, Auto, BelowAuto, Index } kind = Kind::None;
  int64_t value = 0;  // K for BelowAuto, the index for Index

  // Throws InvalidSetting("critical_dim") for anything else.
  static CriticalDim parse(const std::string& text);
  std::string text() const;
};

// Throws InvalidSetting(setting) naming the choices when `text` names none of them.
template <typename E, size_t N>
E parse_mode(const std::array<EnumName<E>, N>& names, const std::string& text, const std::string& setting) {
  const std::optional<E> value = enum_from_name(names, text);
  if (!value) throw InvalidSetting(setting, "'" + text + "' is not " + enum_choices(names));
  return *value;
}

template <typename E, size_t N>
std::string mode_name(const std::array<EnumName<E>, N>& names, E value) {
  return std::string(enum_name(names, value));
}

}  // namespace longrope
