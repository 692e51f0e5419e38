// The run record: its JSON, its comparison, and the reading of run directories that predate it.
#include "search/run_record.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <stdexcept>

#include "eval/content_digest.h"
#include "formats/atomic_file.h"
#include "formats/input_file.h"
#include "formats/json_file.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace longrope {
namespace {

constexpr const char* kFormat = "longrope-search-run";
constexpr int kVersion = 1;

std::string refusal(const fs::path& source, const std::string& diff) {
  return fmt::format("{}: the run was made with other settings:{}; resume it with its own, or choose another run directory",
                     source.string(), diff);
}

struct SavedFingerprint {
  fs::path file;
  json fingerprint;
  int version = 1;
};

// The fingerprints a target directory's files were written for: its state, its finished table, and
// its evaluation journal when that holds an evaluation (one with none gives way to any settings).
std::vector<SavedFingerprint> saved_fingerprints(const fs::path& target_dir) {
  std::vector<SavedFingerprint> out;
  if (const fs::path state = target_dir / "state.json"; fs::exists(state)) {
    const json j = formats::read_json_file(state.string());
    out.push_back({state, j.value("fingerprint", json::object()), j.value("version", 1)});
  }
  if (const fs::path table = target_dir / "table.json"; fs::exists(table)) {
    const json j = formats::read_json_file(table.string());
    json settings = j.value("settings", json::object());
    if (!settings.contains("model") && j.contains("model")) settings["model"] = j["model"];  // version 1: beside the settings
    out.push_back({table, settings, settings.value("fingerprint_version", 1)});
  }
  if (const fs::path journal = target_dir / "evaluations.jsonl"; fs::exists(journal)) {
    const std::string text = formats::read_regular_file(journal.string());
    const size_t end = text.find('\n');
    if (end != std::string::npos && end + 1 < text.size()) {
      const json header = json::parse(text.substr(0, end), nullptr, false);
      if (header.is_object()) out.push_back({journal, header.value("fingerprint", json::object()), header.value("version", 1)});
    }
  }
  return out;
}

// What a run directory of an earlier version tells of its targets: the directories holding a target's
// files, and, once the job finished, the targets of its summary.json (short tables are not in it).
void check_legacy_run(const fs::path& run_dir, const RunRecord& now) {
  std::set<std::string> present;
  for (const fs::directory_entry& e : fs::directory_iterator(run_dir))
    if (e.is_directory() && (fs::exists(e.path() / "state.json") || fs::exists(e.path() / "table.json") ||
                             fs::exists(e.path() / "evaluations.jsonl")))
      present.insert(e.path().filename().string());
  const std::set<std::string> asked(now.targets.begin(), now.targets.end());
  std::set<std::string> was = present;
  const fs::path summary = run_dir / "summary.json";
  if (fs::exists(summary)) {
    const json tables = formats::read_json_file(summary.string());
    if (!tables.is_array()) throw std::runtime_error(summary.string() + ": expected a list of tables");
    for (const json& t : tables)
      if (t.is_object() && t.contains("scale") && t.contains("target_length"))
        was.insert(fmt::format("{:g}x-{}", t["scale"].get<double>(), t["target_length"].get<int64_t>()));
  }
  // A finished job names all its targets; an unfinished one at least those it started.
  const bool differs = fs::exists(summary) ? was != asked : !std::includes(asked.begin(), asked.end(), was.begin(), was.end());
  if (differs) throw std::runtime_error(refusal(run_dir, fmt::format(" targets (was {}, now {})", json(was).dump(), json(asked).dump())));
  // Every target already begun must have been begun with these settings and this model: checked here,
  // before the record is written, so that a refused resume leaves no record of settings it never ran.
  for (const std::string& name : now.targets) {
    const RunFingerprint& fingerprint = now.fingerprints.at(name);
    for (const auto& [path, saved, version] : saved_fingerprints(run_dir / name)) {
      const std::string diff = read_fingerprint(saved, version, fingerprint, path.string()).differences(fingerprint);
      if (!diff.empty()) throw std::runtime_error(refusal(path, diff));
    }
  }
}

}  // namespace

json RunRecord::to_json() const {
  json by_target = json::object();
  for (const auto& [name, f] : fingerprints) by_target[name] = f.to_json();
  return {{"format", kFormat}, {"version", kVersion}, {"model", model}, {"model_digest", model_digest},
          {"targets", targets}, {"fingerprints", by_target}};
}

std::string RunRecord::differences(const RunRecord& now) const {
  std::string diff;
  if (model_digest != now.model_digest)
    diff += fmt::format(" model (was {}, files digest {}; now {}, files digest {})", model, model_digest, now.model, now.model_digest);
  if (targets != now.targets) diff += fmt::format(" targets (was {}, now {})", json(targets).dump(), json(now.targets).dump());
  // The settings every target shares: the first target both runs have names a difference once.
  for (const auto& [name, f] : now.fingerprints) {
    const auto saved = fingerprints.find(name);
    if (saved == fingerprints.end()) continue;
    const std::string setting = saved->second.differences(f);
    if (!setting.empty()) return diff + setting;
  }
  return diff;
}

RunRecord read_run_record(const fs::path& path, const RunRecord& now) {
  const json j = formats::read_json_file(path.string());
  if (!j.is_object() || j.value("format", "") != kFormat)
    throw std::runtime_error(path.string() + ": field 'format': not a longrope search run record");
  if (j.value("version", 0) != kVersion)
    throw std::runtime_error(fmt::format("{}: field 'version': {} is not {}, the version this longrope reads", path.string(),
                                         j.value("version", json()).dump(), kVersion));
  try {
    RunRecord r;
    r.model = j.at("model").get<std::string>();
    r.model_digest = j.at("model_digest").get<std::string>();
    r.targets = j.at("targets").get<std::vector<std::string>>();
    for (const auto& [name, f] : j.at("fingerprints").items()) {
      const auto current = now.fingerprints.find(name);
      r.fingerprints[name] = read_fingerprint(f, kRunFileVersion, current != now.fingerprints.end() ? current->second : RunFingerprint{},
                                              path.string());
    }
    return r;
  } catch (const json::exception& e) {
    throw std::runtime_error(fmt::format("{}: malformed run record: {}", path.string(), e.what()));
  }
}

void check_and_record_run(const fs::path& run_dir, const RunRecord& now, bool resume) {
  const fs::path path = run_dir / kRunRecordName;
  if (resume && fs::exists(path)) {
    const std::string diff = read_run_record(path, now).differences(now);
    if (!diff.empty()) throw std::runtime_error(refusal(path, diff));
    return;
  }
  if (resume && !fs::is_empty(run_dir)) check_legacy_run(run_dir, now);  // a run directory of an earlier version
  formats::write_file_atomically(path.string(), now.to_json().dump(2) + "\n");
}

}  // namespace longrope
