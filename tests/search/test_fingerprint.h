// A complete run fingerprint for the search tests.
#pragma once

#include "search/run_fingerprint.h"

namespace longrope {

inline RunFingerprint test_fingerprint(int64_t target_length = 2048) {
  RunFingerprint f;
  f.model = "models/tiny";
  f.data = "books/valid";
  f.documents = "0123456789abcdef";
  f.target_length = target_length;
  f.docs = 3;
  f.dtype = "f32";
  f.population = 12;
  f.mutants = 4;
  f.crossovers = 4;
  f.parents = 6;
  f.seed = 3;
  f.bound = "paper";
  f.step = 0.01;
  f.mutation_probability = 0.3;
  return f;
}

}  // namespace longrope
