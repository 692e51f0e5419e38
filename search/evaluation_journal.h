// EvaluationJournal: each candidate's evaluation appended to a JSON-lines file as it lands, so a
// resumed search skips what was scored before a kill, even inside a generation. state.json alone
// resumes at generation boundaries, and at 32k–64k tokens on a CPU (or a population of 64 at 128k on
// one GPU) one generation takes hours.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "search/parallel_objective.h"
#include "search/run_fingerprint.h"

namespace longrope {

class EvaluationJournal {
 public:
  // Opens `path` for the run identified by `fingerprint`. With `resume`, keeps the entries of the
  // journal there, and throws std::runtime_error naming the path and the differing settings if it
  // was written for another fingerprint (or is not a journal), or naming the line whose checksum
  // fails (edited by hand); a last line a kill cut short is dropped. Without `resume`, starts an empty
  // one. Throws too if the file cannot be written.
  EvaluationJournal(std::string path, const RunFingerprint& fingerprint, bool resume);

  std::optional<Evaluation> find(const std::string& key) const;
  // Appends and flushes one line; safe to call from several evaluators at once.
  void append(const std::string& key, const Evaluation& evaluation);
  size_t size() const;
  std::vector<std::string> keys() const;

 private:
  std::string path_;
  mutable std::mutex mutex_;
  std::map<std::string, Evaluation> entries_;
};

// `inner`, except that journaled candidates are answered from the journal and fresh evaluations
// are journaled when their group finishes.
GroupScorer journaled(GroupScorer inner, std::shared_ptr<EvaluationJournal> journal);

}  // namespace longrope
