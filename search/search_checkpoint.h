// SearchState on disk (state.json, rewritten atomically after every generation) for --resume.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "search/evolution_search.h"
#include "search/run_fingerprint.h"

namespace longrope {

// Writes the state with the fingerprint of the run it belongs to and a checksum of the whole.
void write_search_state(const std::string& path, const SearchState& state, const RunFingerprint& fingerprint);

// Reads a state written for `now`'s run. Throws std::runtime_error naming the file: when the run was
// started with other settings (naming them), and when the file is malformed or its checksum fails
// (a damaged or hand-edited state), saying how to recover: without it, a resume replays the journal.
SearchState read_search_state(const std::string& path, const RunFingerprint& now);

// A genome as the state file writes it; the reader throws nlohmann's errors on a malformed one.
nlohmann::json genome_to_json(const Genome& g);
Genome genome_from_json(const nlohmann::json& j);

nlohmann::json candidate_to_json(const Candidate& c, const SearchSpace& space);

// JSON has no NaN or infinity: nlohmann writes them as null, read back here as NaN (a diverged
// candidate's perplexity). Shared by the state file and the evaluation journal.
double score_from_json(const nlohmann::json& v);

}  // namespace longrope
