// xoshiro256** with splitmix64 seeding.
#include "search/search_rng.h"

#include <fmt/format.h>

#include <cstdio>
#include <stdexcept>

#include "util/splitmix64.h"

namespace longrope {
namespace {

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

SearchRng::SearchRng(uint64_t seed) {
  for (uint64_t& w : s_) w = splitmix64(seed);
}

uint64_t SearchRng::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double SearchRng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

int64_t SearchRng::uniform_int(int64_t lo, int64_t hi) {
  if (hi <= lo) return lo;
  const uint64_t range = static_cast<uint64_t>(hi - lo) + 1;
  const uint64_t limit = UINT64_MAX - UINT64_MAX % range;  // rejection keeps it unbiased
  uint64_t x;
  do x = next();
  while (x >= limit);
  return lo + static_cast<int64_t>(x % range);
}

std::string SearchRng::state() const { return fmt::format("{:016x}{:016x}{:016x}{:016x}", s_[0], s_[1], s_[2], s_[3]); }

void SearchRng::set_state(const std::string& state) {
  if (state.size() != 64 || state.find_first_not_of("0123456789abcdef") != std::string::npos)
    throw std::invalid_argument("malformed rng state '" + state + "'");
  for (int i = 0; i < 4; ++i) s_[i] = std::stoull(state.substr(static_cast<size_t>(i) * 16, 16), nullptr, 16);
}

}  // namespace longrope
