// The journal's file: a header line naming the job, then one line per scored window. Lines are
// written whole by one write(2) each, so a kill leaves at most a last line without its newline,
// which a resume drops; a complete line that fails its checksum was damaged and is refused.
#include "eval/score_journal.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

#include "eval/content_digest.h"
#include "formats/file_write.h"

namespace longrope {

using nlohmann::json;

namespace {

constexpr const char* kFormat = "longrope-scores";
constexpr int kVersion = 1;

std::string read_all(int fd, const std::string& path) {
  std::string text;
  char buffer[1 << 16];
  ::lseek(fd, 0, SEEK_SET);
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error(fmt::format("{}: cannot be read: {}", path, std::strerror(errno)));
    if (n == 0) return text;
    text.append(buffer, static_cast<size_t>(n));
  }
}

void write_all(int fd, const std::string& text, const std::string& path) { formats::write_all(fd, text.data(), text.size(), path); }

// JSON has no infinity or NaN: they are written as strings, so that a resumed failure reads as the
// uninterrupted one did.
json nll_json(double nll) {
  if (std::isnan(nll)) return "nan";
  if (std::isinf(nll)) return nll > 0 ? "inf" : "-inf";
  return nll;
}

double nll_from_json(const json& v) {
  if (!v.is_string()) return v.get<double>();
  const std::string text = v.get<std::string>();
  if (text == "inf") return std::numeric_limits<double>::infinity();
  if (text == "-inf") return -std::numeric_limits<double>::infinity();
  if (text == "nan") return std::numeric_limits<double>::quiet_NaN();
  throw std::runtime_error("field 'mean_nll': '" + text + "' is not a number");
}

json entry_json(const std::string& key, const JournalScore& s) {
  return with_checksum({{"key", key}, {"name", s.score.name}, {"mean_nll", nll_json(s.score.mean_nll)},
                        {"predictions", s.score.predictions}, {"seconds", s.seconds}});
}

JournalScore entry_score(const json& e) {
  JournalScore s;
  s.score.name = e.at("name").get<std::string>();
  s.score.mean_nll = nll_from_json(e.at("mean_nll"));
  s.score.predictions = e.at("predictions").get<int64_t>();
  s.seconds = e.at("seconds").get<double>();
  return s;
}

// " field (was X, now Y)" for every field of the job that differs.
std::string differences(const json& was, const json& now) {
  std::string diff;
  for (const auto& [field, value] : now.items())
    if (!was.contains(field) || was[field] != value)
      diff += fmt::format(" {} (was {}, now {})", field, was.contains(field) ? was[field].dump() : "absent", value.dump());
  return diff;
}

}  // namespace

json ScoreJob::to_json() const {
  return {{"command", command}, {"model", model},
          {"random_weights_seed", random_weights_seed ? json(*random_weights_seed) : json(nullptr)}, {"documents", documents},
          {"dtype", dtype}, {"device", device}, {"attention", attention}, {"sliding_window", sliding_window},
          {"loss_chunk", loss_chunk}, {"libtorch", libtorch}};
}

ScoreJournal::ScoreJournal(std::string path, const ScoreJob& job, bool resume) : path_(std::move(path)) {
  // O_EXCL first, to know whether this job made the file: one it made, or emptied, is removed again if
  // the header cannot be written (a full disk leaves no empty journal behind).
  bool created = true;
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0 && errno == EEXIST) {
    created = false;
    fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
  }
  if (fd_ < 0) throw std::runtime_error(fmt::format("{}: cannot open the score journal: {}", path_, std::strerror(errno)));
  bool disposable = false;  // this job's own file, holding nothing worth keeping
  try {
    struct stat opened {}, named {};
    if (::fstat(fd_, &opened) != 0 || !S_ISREG(opened.st_mode))
      throw std::runtime_error(fmt::format("{}: the score journal's path is not a regular file", path_));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0)
      throw std::runtime_error(fmt::format("{}: another longrope process is writing this score journal (one writer at a time)", path_));
    // A process that finished between our open and our lock has deleted the file we hold.
    if (::stat(path_.c_str(), &named) != 0 || named.st_ino != opened.st_ino || named.st_dev != opened.st_dev)
      throw std::runtime_error(fmt::format("{}: the score journal was replaced while it was opened; run the command again", path_));
    disposable = created;
    const std::string text = read_all(fd_, path_);
    const json header = {{"format", kFormat}, {"version", kVersion}, {"job", job.to_json()}};
    // Complete lines only: a last line without its newline is what a kill leaves.
    std::vector<std::string> lines;
    for (size_t begin = 0, end; (end = text.find('\n', begin)) != std::string::npos; begin = end + 1)
      lines.push_back(text.substr(begin, end - begin));
    size_t kept_bytes = 0;
    if (!lines.empty()) {
      const json saved = json::parse(lines[0], nullptr, false);
      if (saved.is_discarded() || !saved.is_object() || !saved.contains("format") || saved["format"] != kFormat)
        throw std::runtime_error(fmt::format("{}: line 1: not a longrope score journal (remove it or choose another output)", path_));
      if (!saved.contains("version") || saved["version"] != kVersion)
        throw std::runtime_error(fmt::format("{}: line 1: field 'version': {} is not {}, the version this longrope writes (delete "
                                             "the file to start over)", path_, saved.value("version", json()).dump(), kVersion));
      const json saved_job = saved.contains("job") && saved["job"].is_object() ? saved["job"] : json::object();
      const std::string diff = differences(saved_job, header["job"]);
      kept_bytes = lines[0].size() + 1;
      for (size_t i = 1; i < lines.size(); ++i) {
        const json e = json::parse(lines[i], nullptr, false);
        if (!checksum_matches(e))
          throw std::runtime_error(fmt::format("{}: line {}: field 'checksum': does not match the line (damaged or edited by hand); "
                                               "remove the line to score that window again", path_, i + 1));
        try {
          scores_[e.at("key").get<std::string>()] = entry_score(e);
        } catch (const std::exception& error) {
          throw std::runtime_error(fmt::format("{}: line {}: {}", path_, i + 1, error.what()));
        }
        kept_bytes += lines[i].size() + 1;
      }
      // Hours of forwards may sit in it: never wiped by a command that did not ask to continue it,
      // nor mixed with scores of other settings.
      if (!scores_.empty() && !diff.empty())
        throw std::runtime_error(fmt::format("{}: field 'job': its {} scored windows were computed for another job:{} (delete the "
                                             "file to start over)", path_, scores_.size(), diff));
      if (!scores_.empty() && !resume)
        throw std::runtime_error(fmt::format("{}: holds {} scored windows of an unfinished job: continue it with --resume, or "
                                             "delete the file to start over", path_, scores_.size()));
      if (!diff.empty()) kept_bytes = 0;  // a header alone holds nothing to lose
    }
    if (::ftruncate(fd_, static_cast<off_t>(kept_bytes)) != 0)
      throw std::runtime_error(fmt::format("{}: cannot be truncated: {}", path_, std::strerror(errno)));
    disposable = disposable || kept_bytes == 0;
    ::lseek(fd_, 0, SEEK_END);
    if (kept_bytes == 0) write_all(fd_, header.dump() + "\n", path_);
  } catch (...) {
    if (disposable) ::unlink(path_.c_str());
    ::close(fd_);
    throw;
  }
}

ScoreJournal::~ScoreJournal() {
  if (fd_ < 0) return;
  if (scores_.empty()) ::unlink(path_.c_str());  // nothing scored: nothing left behind
  ::close(fd_);
}

std::optional<JournalScore> ScoreJournal::find(const std::string& key) const {
  const auto it = scores_.find(key);
  if (it == scores_.end()) return std::nullopt;
  return it->second;
}

void ScoreJournal::record(const std::string& key, const JournalScore& score) {
  write_all(fd_, entry_json(key, score).dump() + "\n", path_);
  scores_[key] = score;
}

void ScoreJournal::remove() {
  ::unlink(path_.c_str());
  ::close(fd_);
  fd_ = -1;
}

std::string score_key(int64_t length, const RopeScaling& scaling, size_t window, const std::string& name) {
  return fmt::format("{}|{}|{}|{}", length, text_checksum(scaling.cache_key()), window, name);
}

}  // namespace longrope
