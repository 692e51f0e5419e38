// Starting points of the search: the PI, NTK and YaRN tables (paper §3.2) and the YaRN-shaped seed
// of the reference code, as λ tables for a model's RoPE geometry.
#pragma once

#include <string>
#include <vector>

#include "rope/rope_scaling.h"

namespace longrope {

struct SeedTable {
  std::string name;
  std::vector<double> lambda;
};

// pi, ntk, yarn (YaRN's own λ), yarn-shaped (λ_i = 1 + (s − 1)·ramp_i).
std::vector<SeedTable> search_seeds(const RopeGeometry& geometry, double scale);

}  // namespace longrope
