// RUN/run.json: what defines a search run as a whole, written when the run starts and compared by
// every resume before anything is written. Each target's own files carry its fingerprint
// (run_fingerprint.h); the record adds what none of them holds: the model's content (a digest of its
// files, not only its path) and the list of targets, so that a resume with another model or another
// target list is refused instead of adding a target beside the old ones.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "search/run_fingerprint.h"

namespace longrope {

inline constexpr const char* kRunRecordName = "run.json";

struct RunRecord {
  std::string model;                  // canonical path, for the message
  std::string model_digest;           // model_files_digest of its files
  std::vector<std::string> targets;   // the targets' directory names, in the job's order ("short-64", "8x-512")
  std::map<std::string, RunFingerprint> fingerprints;  // per target

  nlohmann::json to_json() const;
  // " field (was X, now Y)" for the first difference of each kind (model, targets, a setting shared by
  // the targets); empty when a resume may go on.
  std::string differences(const RunRecord& now) const;
};

// Reads RUN/run.json; throws std::runtime_error naming the file when it is malformed.
RunRecord read_run_record(const std::filesystem::path& path, const RunRecord& now);

// Before a search writes anything into `run_dir`: on a resume, the record there (or, in a run
// directory of an earlier version that has none, what its files tell: its targets and their
// fingerprints) must describe `now`; throws std::runtime_error "FILE: the run was made with other
// settings: field (was X, now Y)" otherwise. Then writes `now` as the record when there is none.
void check_and_record_run(const std::filesystem::path& run_dir, const RunRecord& now, bool resume);

}  // namespace longrope
