// The RoPE methods by name: parsed once where a user or a file names one, printed from this table.
#pragma once

#include <array>
#include <string>

#include "util/named_enum.h"

namespace longrope {

enum class RopeMethod {
  Config,      // the checkpoint's own scaling, as transformers applies it
  None,        // plain RoPE
  PI,          // position interpolation: λ_i = s
  NTK,         // static NTK-aware base change
  DynamicNTK,  // transformers' "dynamic" at the evaluation length
  YaRN,
  LongRoPE,    // a searched table
};

inline constexpr std::array<EnumName<RopeMethod>, 7> kRopeMethodNames = {{
    {RopeMethod::Config, "config"},
    {RopeMethod::None, "none"},
    {RopeMethod::PI, "pi"},
    {RopeMethod::NTK, "ntk"},
    {RopeMethod::DynamicNTK, "dynamic-ntk"},
    {RopeMethod::YaRN, "yarn"},
    {RopeMethod::LongRoPE, "longrope"},
}};

inline std::string method_name(RopeMethod m) { return std::string(enum_name(kRopeMethodNames, m)); }

}  // namespace longrope
