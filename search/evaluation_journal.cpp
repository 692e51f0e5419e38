// The journal's file: a header line naming the run, then one line per evaluation. A kill can cut
// the last line short; such a line is skipped on reading.
#include "search/evaluation_journal.h"

#include <fmt/format.h>

#include <fstream>
#include <utility>
#include <vector>
#include <stdexcept>

#include "formats/atomic_file.h"
#include "formats/file_write.h"
#include "search/search_checkpoint.h"

namespace longrope {

using nlohmann::json;

namespace {

// One journal line, or nothing for a line a kill cut short. Lines of version 2 carry a checksum.
std::optional<std::pair<std::string, Evaluation>> parse_entry(const std::string& line, int version, const std::string& where) {
  const json e = json::parse(line, nullptr, false);
  if (e.is_discarded() || !e.is_object()) return std::nullopt;
  if (version >= 2 && !checksum_matches(e))
    throw std::runtime_error(where + ": field 'checksum': does not match the line (damaged or edited by hand); remove the line "
                             "to score that candidate again");
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

std::string entry_line(const std::string& key, const Evaluation& e) {
  return with_checksum({{"key", key}, {"score", e.score}, {"forwards", e.forwards}, {"raced_out", e.raced_out},
                        {"document_nll", e.document_nll}})
      .dump();
}

}  // namespace

EvaluationJournal::EvaluationJournal(std::string path, const RunFingerprint& fingerprint, bool resume) : path_(std::move(path)) {
  const json header = {{"format", "longrope-evaluations"}, {"version", kRunFileVersion}, {"fingerprint", fingerprint.to_json()}};
  std::vector<std::string> kept;
  std::ifstream in(path_);
  if (resume && in) {
    std::string line;
    std::getline(in, line);
    const json saved = json::parse(line, nullptr, false);
    if (saved.is_discarded() || !saved.is_object() || saved.value("format", "") != "longrope-evaluations")
      throw std::runtime_error(path_ + ": line 1: not a longrope evaluation journal (remove it to resume without it)");
    const int version = saved.value("version", 1);
    const RunFingerprint was = read_fingerprint(saved.value("fingerprint", json::object()), version, fingerprint, path_);
    // Rewritten below at the current version: version-1 lines gain their checksums.
    int line_number = 1;
    while (std::getline(in, line)) {
      ++line_number;
      if (auto entry = parse_entry(line, version, fmt::format("{}: line {}", path_, line_number))) {
        kept.push_back(entry_line(entry->first, entry->second));
        entries_[entry->first] = std::move(entry->second);
      }
    }
    // Hours of forwards may sit in it: a resume with other settings is refused, not allowed to wipe
    // it. A journal of a run that failed before its first evaluation holds nothing to lose.
    const std::string diff = was.differences(fingerprint);
    if (!diff.empty() && !entries_.empty())
      throw std::runtime_error(path_ + ": the run was started with other settings:" + diff);
    if (!diff.empty()) kept.clear();
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
  const std::string line = entry_line(key, e);
  std::lock_guard<std::mutex> lock(mutex_);
  formats::append_to_file(path_, line + "\n");  // a full disk is named, with the file
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
