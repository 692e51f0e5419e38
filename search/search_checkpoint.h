// SearchState on disk (state.json, rewritten atomically after every generation) for --resume.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "search/evolution_search.h"

namespace longrope {

// `fingerprint` records what the state was searched for (model, data, target, settings); resuming
// with a different one is refused, since the scores would not be comparable.
void write_search_state(const std::string& path, const SearchState& state, const nlohmann::json& fingerprint);
SearchState read_search_state(const std::string& path, const nlohmann::json& expected_fingerprint);

nlohmann::json candidate_to_json(const Candidate& c, const SearchSpace& space);

// JSON has no NaN or infinity: nlohmann writes them as null, read back here as NaN (a diverged
// candidate's perplexity). Shared by the state file and the evaluation journal.
double score_from_json(const nlohmann::json& v);

// " key (was X, now Y)" for every setting on which a saved run's fingerprint and this run's differ;
// empty when a resume may go on. Names what a refused resume would have mixed. Files from earlier
// versions stay resumable: a saved "generations" is ignored (a resume may extend a search), and so
// is a missing "documents" digest (model, data and docs still name the documents).
std::string fingerprint_diff(const nlohmann::json& saved, const nlohmann::json& expected);

}  // namespace longrope
