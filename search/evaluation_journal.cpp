// The journal's file: a header line naming the run, then one line per evaluation. A kill can cut
// the last line short; such a line is skipped on reading.
#include "search/evaluation_journal.h"

#include <fstream>
#include <stdexcept>

#include "models/formats/atomic_file.h"

namespace longrope {

using nlohmann::json;

EvaluationJournal::EvaluationJournal(std::string path, const json& fingerprint, bool resume) : path_(std::move(path)) {
  const json header = {{"format", "longrope-evaluations"}, {"version", 1}, {"fingerprint", fingerprint}};
  std::ifstream in(path_);
  if (resume && in) {
    std::string line;
    bool same_run = false;
    if (std::getline(in, line)) {
      const json saved = json::parse(line, nullptr, false);
      same_run = !saved.is_discarded() && saved.is_object() && saved.value("format", "") == "longrope-evaluations" &&
                 saved.value("fingerprint", json()) == fingerprint;
    }
    if (same_run) {
      while (std::getline(in, line)) {
        const json e = json::parse(line, nullptr, false);
        if (e.is_discarded() || !e.is_object() || !e.contains("key") || !e.contains("score")) continue;  // cut short
        Evaluation ev;
        ev.score = e["score"].get<double>();
        ev.forwards = e.value("forwards", int64_t{1});
        ev.raced_out = e.value("raced_out", false);
        ev.document_nll = e.value("document_nll", std::vector<double>{});
        entries_[e["key"].get<std::string>()] = std::move(ev);
      }
      return;  // keep appending to it
    }
    note_ = path_ + " was written for other settings; not reused";
  }
  in.close();
  formats::AtomicFile out(path_);
  out.stream() << header.dump() << "\n";
  out.commit();
}

std::optional<Evaluation> EvaluationJournal::find(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void EvaluationJournal::append(const std::string& key, const Evaluation& e) {
  const json line = {{"key", key}, {"score", e.score}, {"forwards", e.forwards}, {"raced_out", e.raced_out},
                     {"document_nll", e.document_nll}};
  std::lock_guard<std::mutex> lock(mutex_);
  std::ofstream out(path_, std::ios::app);
  out << line.dump() << "\n";
  out.flush();
  if (!out) throw std::runtime_error(path_ + ": cannot append an evaluation");
  entries_[key] = e;
}

size_t EvaluationJournal::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.size();
}

GroupScorer journaled(GroupScorer inner, std::shared_ptr<EvaluationJournal> journal) {
  return [inner = std::move(inner), journal = std::move(journal)](const std::vector<Genome>& group, const Cutoff& cutoff) {
    std::vector<Evaluation> out(group.size());
    std::vector<Genome> fresh;
    std::vector<size_t> where;
    for (size_t i = 0; i < group.size(); ++i) {
      if (auto e = journal->find(group[i].key())) {
        out[i] = *e;
      } else {
        fresh.push_back(group[i]);
        where.push_back(i);
      }
    }
    if (fresh.empty()) return out;
    const std::vector<Evaluation> got = inner(fresh, cutoff);
    if (got.size() != fresh.size()) throw std::logic_error("a scorer returned the wrong number of scores");
    for (size_t j = 0; j < fresh.size(); ++j) {
      journal->append(fresh[j].key(), got[j]);
      out[where[j]] = got[j];
    }
    return out;
  };
}

}  // namespace longrope
