// splitmix64 (Steele, Lea & Flood): one portable 64-bit step, so that a seed draws the same numbers on
// every platform (std:: distributions are implementation-defined). Seeds the search's generator and
// draws windows, passkeys, needles and bootstrap resamples.
#pragma once

#include <cstdint>

namespace longrope {

inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace longrope
