// Seed tables and baseline names.
#include "search/seeds.h"

namespace longrope {

std::vector<SeedTable> search_seeds(const RopeGeometry& g, double scale) {
  return {{"pi", rope_pi(g, scale).lambda},
          {"ntk", rope_ntk(g, scale).lambda},
          {"yarn", rope_yarn(g, scale).lambda},
          {"yarn-shaped", yarn_shaped_lambda(g, scale)}};
}

const std::vector<std::string>& baseline_methods() {
  static const std::vector<std::string> names = {"none", "pi", "ntk", "dynamic-ntk", "yarn"};
  return names;
}

}  // namespace longrope
