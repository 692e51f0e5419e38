// SearchRng: a seeded generator whose draws and saved state are the same on every platform
// (std:: distributions are implementation-defined), so a seed reproduces a search anywhere.
#pragma once

#include <cstdint>
#include <string>

namespace longrope {

// xoshiro256** (Blackman & Vigna), seeded through splitmix64.
class SearchRng {
 public:
  explicit SearchRng(uint64_t seed = 0);
  uint64_t next();
  double uniform();                          // [0, 1)
  int64_t uniform_int(int64_t lo, int64_t hi);  // [lo, hi], unbiased
  bool bernoulli(double p) { return uniform() < p; }
  std::string state() const;                 // 4 hex words
  void set_state(const std::string& state);  // throws std::invalid_argument on a malformed state

 private:
  uint64_t s_[4];
};

}  // namespace longrope
