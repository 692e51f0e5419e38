// JSON encoding of the search state.
#include "search/search_checkpoint.h"

#include <fmt/format.h>

#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "formats/atomic_file.h"

namespace longrope {
namespace {

using nlohmann::json;

std::vector<double> numbers(const json& v) {
  std::vector<double> out;
  for (const json& x : v) out.push_back(score_from_json(x));
  return out;
}

}  // namespace

// "steps" is the grid index list's name in every state file written so far.
json genome_to_json(const Genome& g) {
  json j = {{"steps", g.grid}, {"start_tokens", g.start_tokens}};
  if (g.alpha >= 0) j.update({{"alpha", g.alpha}, {"beta", g.beta}});  // the piecewise space's
  return j;
}

Genome genome_from_json(const json& j) {
  Genome g;
  g.grid = j.at("steps").get<std::vector<int32_t>>();
  g.start_tokens = j.at("start_tokens").get<int64_t>();
  g.alpha = j.value("alpha", -1);
  g.beta = j.value("beta", -1);
  return g;
}

double score_from_json(const json& v) { return v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>(); }

json candidate_to_json(const Candidate& c, const SearchSpace& space) {
  return {{"ppl", c.score}, {"lambda", c.genome.lambda(space)}, {"start_tokens", c.genome.start_tokens}};
}

void write_search_state(const std::string& path, const SearchState& s, const RunFingerprint& fingerprint) {
  json population = json::array();
  for (const Candidate& c : s.population)
    population.push_back({{"genome", genome_to_json(c.genome)}, {"score", c.score}, {"document_nll", c.document_nll},
                          {"raced_out", c.raced_out}});
  json scores = json::object();
  for (const auto& [key, score] : s.scores) scores[key] = score;
  const json j = {{"format", "longrope-search-state"}, {"version", kRunFileVersion}, {"fingerprint", fingerprint.to_json()},
                  {"completed_generations", s.completed_generations}, {"rng_state", s.rng_state},
                  {"evaluations", s.evaluations}, {"forwards", s.forwards}, {"raced_out", s.raced_out},
                  {"seconds", s.seconds}, {"population", population}, {"scores", scores}};
  formats::write_file_atomically(path, with_checksum(j).dump() + "\n");
}

SearchState read_search_state(const std::string& path, const RunFingerprint& now) {
  const std::string recover = "remove it and resume again: evaluations.jsonl replays every candidate scored so far";
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open (nothing to resume)");
  std::stringstream text;
  text << in.rdbuf();
  json j;
  int version = 0;
  try {
    j = json::parse(text.str());
    if (j.at("format") != "longrope-search-state") throw std::runtime_error("field 'format': not a longrope search state");
    version = j.at("version").get<int>();
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("{}: malformed search state ({}); {}", path, e.what(), recover));
  }
  if (version >= 2 && !checksum_matches(j))
    throw std::runtime_error(fmt::format("{}: field 'checksum': does not match the contents (damaged or edited by hand); {}", path, recover));
  const RunFingerprint saved = read_fingerprint(j.at("fingerprint"), version, now, path);
  const std::string diff = saved.differences(now);
  if (!diff.empty()) throw std::runtime_error(fmt::format("{}: the run was started with other settings:{}", path, diff));
  try {
    SearchState s;
    s.completed_generations = j.at("completed_generations").get<int>();
    s.rng_state = j.at("rng_state").get<std::string>();
    s.evaluations = j.at("evaluations").get<int64_t>();
    // Version 1 states before racing lack the forward count: every candidate then saw every document.
    s.forwards = version == 1 ? j.value("forwards", s.evaluations * now.docs) : j.at("forwards").get<int64_t>();
    s.raced_out = version == 1 ? j.value("raced_out", int64_t{0}) : j.at("raced_out").get<int64_t>();
    s.seconds = j.at("seconds").get<double>();
    for (const json& c : j.at("population"))
      s.population.push_back({genome_from_json(c.at("genome")), score_from_json(c.at("score")), numbers(c.value("document_nll", json::array())),
                              c.value("raced_out", false)});
    for (const auto& [key, score] : j.at("scores").items()) s.scores[key] = score_from_json(score);
    return s;
  } catch (const json::exception& e) {
    throw std::runtime_error(fmt::format("{}: malformed search state ({}); {}", path, e.what(), recover));
  }
}

}  // namespace longrope
