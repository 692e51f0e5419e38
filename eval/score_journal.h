// ScoreJournal: every window an eval or curve has scored, one checksummed JSON line each, appended as
// it lands, so that a killed job continues where it stopped (--resume) and prints the numbers an
// uninterrupted one prints. At 512x on a CPU a held-out comparison is over an hour of forwards.
//
// The first line names the job: the model's files, the documents' token ids, the dtype and the
// device. A resume refuses another job's journal, naming the field that differs. One process writes a
// journal at a time (an advisory lock on the file, released by the kernel when the process ends).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "eval/documents.h"
#include "rope/rope_scaling.h"

namespace longrope {

struct JournalScore {
  DocumentScore score;
  double seconds = 0;  // the window's share of its forward's time
};

// What a journal's scores depend on, beside the window and the scaling of each line: every setting
// that changes a window's NLL, down to the last bits (a resumed job prints the numbers an
// uninterrupted one prints, on the same machine and thread count).
struct ScoreJob {
  std::string command;                          // eval | curve: their journals never serve each other
  std::string model;                            // model_files_digest
  std::optional<uint64_t> random_weights_seed;  // benchmarks' drawn weights (the model is a config alone)
  std::string documents;                        // documents_digest: token ids, BOS rule
  std::string dtype;
  std::string device;                           // as given: cpu, cuda, cuda:N
  std::string attention;                        // auto | chunked | sdpa | full
  bool sliding_window = true;
  int64_t loss_chunk = 0;                       // the LM head's blocks (summed in f32 within one)
  std::string libtorch;                         // the build's LibTorch version
  nlohmann::json to_json() const;
};

class ScoreJournal {
 public:
  // Opens `path` for `job`. Without `resume`, an existing journal is refused (it holds an unfinished
  // job's scores: continue it with --resume or delete it). With `resume`, its scores are kept; a last
  // line a kill cut short is dropped; another job's journal, or a line whose checksum fails, is refused.
  // Throws std::runtime_error naming the file (and the field) in every case.
  ScoreJournal(std::string path, const ScoreJob& job, bool resume);
  ~ScoreJournal();
  ScoreJournal(const ScoreJournal&) = delete;
  ScoreJournal& operator=(const ScoreJournal&) = delete;

  std::optional<JournalScore> find(const std::string& key) const;
  // Appends one line (written whole, before the next window starts).
  void record(const std::string& key, const JournalScore& score);
  size_t size() const { return scores_.size(); }
  const std::string& path() const { return path_; }

  // Deletes the file: the caller has written the job's outputs.
  void remove();

 private:
  std::string path_;
  int fd_ = -1;
  std::map<std::string, JournalScore> scores_;
};

// Where the journal of a job writing `output` (a file or an output prefix) lies: beside it.
inline std::string journal_path(const std::string& output) { return output + ".journal"; }

// A window's key: the length, the scaling's exact table (not the method's name: `./t.json` and
// `t.json` are one table, and so are PI and none at s = 1, scored once), and the window (index, name).
std::string score_key(int64_t length, const RopeScaling& scaling, size_t window, const std::string& name);

}  // namespace longrope
