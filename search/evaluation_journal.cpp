// The journal's file: a header line naming the run, then one line per evaluation. A kill can cut
// the last line short; such a line is skipped on reading.
#include "search/evaluation_journal.h"

#include <fstream>
#include <utility>
#include <vector>
#include <stdexcept>

#include "formats/atomic_file.h"
#include "search/search_checkpoint.h"

namespace longrope {

using nlohmann::json;

namespace {

// One journal line, or nothing for a line a kill cut short.
std::optional<std::pair<std::string, Evaluation>> parse_entry(const std::string& line) {
  const json e = json::parse(line, nullptr, false);
  if (e.is_discarded() || !e.is_object()) return std::nullopt;
  try {
    Evaluation ev;
    ev.score = score_from_json(e.at("score"));
    ev.forwards = e.value("forwards", int64_t{1});
    ev.raced_out = e.value("raced_out", false);
    for (const json& x : e.value("document_nll", json::array())) ev.document_nll.push_back(score_from_json(x));
    return std::make_pair(e.at("key").get<std::string>(), std::move(ev));
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

}  // namespace

EvaluationJournal::EvaluationJournal(std::string path, const json& fingerprint, bool resume) : path_(std::move(path)) {
  const json header = {{"format", "longrope-evaluations"}, {"version", 1}, {"fingerprint", fingerprint}};
  std::vector<std::string> kept;
  std::ifstream in(path_);
  if (resume && in) {
    std::string line;
    std::getline(in, line);
    const json saved = json::parse(line, nullptr, false);
    if (saved.is_discarded() || !saved.is_object() || saved.value("format", "") != "longrope-evaluations")
      throw std::runtime_error(path_ + ": line 1: not a longrope evaluation journal (remove it to resume without it)");
    // Hours of forwards may sit in it: a resume with other settings is refused, not allowed to wipe it.
    const std::string diff = fingerprint_diff(saved.value("fingerprint", json::object()), fingerprint);
    if (!diff.empty()) throw std::runtime_error(path_ + ": the run was started with other settings:" + diff);
    while (std::getline(in, line))
      if (auto entry = parse_entry(line)) {
        entries_[entry->first] = std::move(entry->second);
        kept.push_back(line);
      }
  }
  in.close();
  // Rewritten whole, so that appends never follow a line a kill cut short.
  formats::AtomicFile out(path_);
  out.stream() << header.dump() << "\n";
  for (const std::string& line : kept) out.stream() << line << "\n";
  out.commit();
}

std::vector<std::string> EvaluationJournal::keys() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> out;
  for (const auto& kv : entries_) out.push_back(kv.first);
  return out;
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
