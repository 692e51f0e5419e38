// The fingerprint's JSON form, its one comparison rule and the version-1 migration.
#include "search/run_fingerprint.h"

#include <fmt/format.h>

#include <stdexcept>

namespace longrope {

using nlohmann::json;

json RunFingerprint::to_json() const {
  json j = {{"model", model}, {"data", data}, {"documents", documents}, {"target_length", target_length}, {"docs", docs},
          {"dtype", dtype}, {"population", population}, {"mutants", mutants}, {"crossovers", crossovers},
          {"parents", parents}, {"seed", seed}, {"bound", bound}, {"step", step},
          {"mutation_probability", mutation_probability}, {"search_start_tokens", search_start_tokens}, {"critical_dim", critical_dim}, {"space", space},
          {"init_table", init_table ? json(*init_table) : json(nullptr)}, {"compose", compose},
          {"race_margin", race_margin ? json(*race_margin) : json(nullptr)}, {"optimizer", optimizer}, {"gradient", gradient}};
  // Written only when set, so that the files of every other run read and compare as before.
  if (!deploy.empty()) j["deploy"] = deploy;
  if (!serve_lengths.empty()) j["serve_lengths"] = serve_lengths;
  const RunFingerprint defaults;
  if (objective != defaults.objective) j["objective"] = objective;
  if (validation != defaults.validation) j["validation"] = validation;
  if (validate_top != defaults.validate_top) j["validate_top"] = validate_top;
  if (single_table) j["single_table"] = single_table;
  if (!sliding_window) j["sliding_window"] = sliding_window;
  return j;
}

namespace {

// What a field that is no option by itself depends on: the documents digest covers the windows
// scored, which several options choose; a digest alone would not say which to give back.
std::string why(const std::string& key) {
  if (key == "documents")
    return ": the windows that --data, --docs, --min-tokens, --sample-seed, --skip-tokens, --windows, --window-seed, --token-format, --tokenizer "
           "and --bos choose differ";
  return "";
}

}  // namespace

std::string RunFingerprint::differences(const RunFingerprint& now) const {
  json was = to_json(), is = now.to_json();
  was.erase("data");  // a name: the same documents may be reached by another path; the digest decides
  is.erase("data");
  if (canonical_path(model) == canonical_path(now.model)) was["model"] = is["model"];
  const RunFingerprint defaults;
  // A field absent from a file is its default.
  const json saved_defaults = {{"objective", defaults.objective}, {"validation", defaults.validation},
                               {"validate_top", defaults.validate_top}, {"single_table", false},
                               {"sliding_window", true}};
  const auto value_of = [&](const json& j, const std::string& key) {
    return j.contains(key) ? j[key] : saved_defaults.contains(key) ? saved_defaults[key] : json();
  };
  std::string diff;
  for (const auto& [key, value] : is.items())
    if (value_of(was, key) != value) diff += fmt::format(" {} (was {}, now {}{})", key, value_of(was, key).dump(), value.dump(), why(key));
  for (const auto& [key, value] : was.items())
    if (!is.contains(key) && value != value_of(is, key))
      diff += fmt::format(" {} (was {}, now {})", key, value.dump(), saved_defaults.contains(key) ? value_of(is, key).dump() : "none");
  return diff;
}

RunFingerprint read_fingerprint(const json& saved, int version, const RunFingerprint& now, const std::string& source) {
  if (version < 1 || version > kRunFileVersion)
    throw std::runtime_error(fmt::format("{}: version {} is not one this longrope reads (1 to {})", source, version, kRunFileVersion));
  try {
    RunFingerprint f;
    f.model = saved.value("model", now.model);  // a finished table keeps the model beside its settings
    f.data = saved.value("data", std::string());
    f.documents = version == 1 ? saved.value("documents", now.documents) : saved.at("documents").get<std::string>();
    f.target_length = saved.at("target_length").get<int64_t>();
    f.docs = saved.at("docs").get<int64_t>();
    f.dtype = saved.at("dtype").get<std::string>();
    f.population = saved.at("population").get<int>();
    f.mutants = saved.at("mutants").get<int>();
    f.crossovers = saved.at("crossovers").get<int>();
    f.parents = saved.at("parents").get<int>();
    f.seed = saved.at("seed").get<uint64_t>();
    f.bound = saved.at("bound").get<std::string>();
    f.step = saved.at("step").get<double>();
    f.mutation_probability = saved.at("mutation_probability").get<double>();
    f.search_start_tokens = saved.at("search_start_tokens").get<bool>();
    f.critical_dim = saved.value("critical_dim", int64_t{0});
    f.space = saved.value("space", std::string("paper"));
    const json& init = saved.at("init_table");
    if (!init.is_null()) f.init_table = init.get<std::vector<double>>();
    f.compose = saved.at("compose").get<bool>();
    const json race = version == 1 ? saved.value("race_margin", json(nullptr)) : saved.at("race_margin");
    if (!race.is_null()) f.race_margin = race.get<double>();
    f.optimizer = saved.value("optimizer", std::string("evolution"));
    f.gradient = saved.value("gradient", json(nullptr));
    f.deploy = saved.value("deploy", std::string());
    f.serve_lengths = saved.value("serve_lengths", std::vector<int64_t>{});
    f.objective = saved.value("objective", f.objective);
    f.validation = saved.value("validation", f.validation);
    f.validate_top = saved.value("validate_top", f.validate_top);
    f.single_table = saved.value("single_table", f.single_table);
    f.sliding_window = saved.value("sliding_window", f.sliding_window);
    return f;
  } catch (const json::exception& e) {
    throw std::runtime_error(fmt::format("{}: malformed run fingerprint: {}", source, e.what()));
  }
}

}  // namespace longrope
