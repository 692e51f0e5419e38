// The ranks of a distributed search: setup and agreement (collective), then rank 0 searches while
// the others serve candidates until it tells them to stop.
#include "search/distributed_search.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "search/candidate_messages.h"
#include "search/run_fingerprint.h"
#include "util/errors.h"

namespace longrope {

using nlohmann::json;

namespace {

enum Tag : int { kWork = 1, kResult = 2, kFailed = 3, kStop = 4 };

std::string rank_name(int rank, const json& status) {
  return fmt::format("rank {} ({}, {})", rank, status.value("host", "?"), status.value("device", "?"));
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// A rank's error line as the job's cause: rank 0 says "error:" once, before the rank's name.
std::string cause(const DescribeError& describe, std::exception_ptr error) {
  std::string line = first_line(describe(error));
  if (line.rfind("error: ", 0) == 0) line.erase(0, 7);
  return line;
}

// What a rank did in setup, for rank 0 to compare.
json rank_status(const MpiJob& job, const RuntimeArgs& runtime, const ModelArgs& model, const SearchPlan& plan) {
  return {{"host", job.host()}, {"device", runtime.device}, {"model", model.path}, {"fingerprints", plan.fingerprints()},
          {"model_digest", model.random_weights_seed ? fmt::format("random weights, seed {}", *model.random_weights_seed)
                                                     : model_files_digest(model.path)}};
}

std::string refusal_of(const std::vector<std::string>& statuses) {
  std::vector<json> s;
  for (const std::string& text : statuses) s.push_back(json::parse(text));
  for (size_t r = 0; r < s.size(); ++r)
    if (s[r].contains("error")) return fmt::format("{}: {}", rank_name(static_cast<int>(r), s[r]), s[r]["error"].get<std::string>());
  for (size_t r = 1; r < s.size(); ++r) {
    const std::string who = rank_name(static_cast<int>(r), s[r]);
    if (s[r]["model_digest"] != s[0]["model_digest"])
      return fmt::format("{} was given another model than rank 0: {} vs {} (their files differ)", who, s[r]["model"].get<std::string>(),
                         s[0]["model"].get<std::string>());
    const json& mine = s[0]["fingerprints"];
    const json& theirs = s[r]["fingerprints"];
    if (mine.size() != theirs.size())
      return fmt::format("{} plans {} targets, rank 0 plans {} (other --target or --short)", who, theirs.size(), mine.size());
    for (size_t t = 0; t < mine.size(); ++t) {
      const RunFingerprint zero = read_fingerprint(mine[t], kRunFileVersion, {}, "rank 0");
      RunFingerprint other = read_fingerprint(theirs[t], kRunFileVersion, {}, who);
      other.model = zero.model;  // compared by the files' digest above: copies may lie at other paths
      const std::string diff = zero.differences(other);
      if (!diff.empty()) return fmt::format("{} was started with other settings than rank 0 (rank 0's value first):{}", who, diff);
    }
  }
  return "";
}

// Empty when every rank set up and agrees with rank 0; else the line that ends the job. Never throws:
// every rank waits in the broadcast that follows.
std::string refusal(const std::vector<std::string>& statuses) {
  try {
    return refusal_of(statuses);
  } catch (const std::exception& e) {
    return std::string("a rank's status is unreadable (another longrope version?): ") + e.what();
  }
}

// What the groups scored on other ranks cost beyond their scoring: messages, (de)serialisation, polling.
struct RemoteCost {
  std::mutex mutex;
  int64_t groups = 0;
  double round_trip_s = 0, scoring_s = 0;

  void add(double round_trip, double scoring) {
    std::lock_guard<std::mutex> lock(mutex);
    ++groups;
    round_trip_s += round_trip;
    scoring_s += scoring;
  }
  std::string line() {
    std::lock_guard<std::mutex> lock(mutex);
    const double n = static_cast<double>(std::max<int64_t>(groups, 1));
    return fmt::format("mpi: {} candidate groups scored on other ranks; per group {:.4f} s round trip, {:.4f} s scoring, "
                       "{:.2f} ms overhead", groups, round_trip_s / n, scoring_s / n, 1e3 * (round_trip_s - scoring_s) / n);
  }
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Rank 0's scorer of candidates on rank `rank`: a group out, its scores back.
GroupScorer remote_scorer(const MpiJob& job, int rank, size_t target, std::string name, RemoteCost& cost) {
  return [&job, &cost, rank, target, name = std::move(name)](const std::vector<Genome>& group, const Cutoff& cutoff) {
    const auto start = std::chrono::steady_clock::now();
    job.send(rank, kWork, work_message({target, group, cutoff}));
    const MpiJob::Message reply = job.receive(rank);
    if (reply.tag == kFailed) throw std::runtime_error(fmt::format("{}: {}", name, reply.body));
    if (reply.tag != kResult) throw std::runtime_error(fmt::format("{}: unexpected message (tag {})", name, reply.tag));
    WorkResult result = read_result_message(reply.body);
    cost.add(seconds_since(start), result.seconds);
    return std::move(result.evaluations);
  };
}

// A worker rank: scores what rank 0 sends until it says stop.
void serve_candidates(const MpiJob& job, const std::function<GroupScorer(size_t)>& scorer_for, const DescribeError& describe) {
  std::optional<size_t> target;
  GroupScorer scorer;
  for (;;) {
    const MpiJob::Message m = job.receive(0);
    if (m.tag == kStop) return;
    try {
      if (m.tag != kWork) throw std::runtime_error(fmt::format("unexpected message (tag {})", m.tag));
      const WorkOrder order = read_work_message(m.body);
      if (target != order.target) {
        scorer = scorer_for(order.target);
        target = order.target;
      }
      const auto start = std::chrono::steady_clock::now();
      std::vector<Evaluation> scored = scorer(order.group, order.cutoff);
      job.send(0, kResult, result_message({std::move(scored), seconds_since(start)}));
    } catch (...) {
      job.send(0, kFailed, cause(describe, std::current_exception()));
    }
  }
}

// Collective: every rank's status to rank 0, and rank 0's verdict (empty: go on) to every rank.
std::string agree(const MpiJob& job, const json& status, std::vector<std::string>* statuses = nullptr) {
  std::vector<std::string> all = job.gather(status.dump());
  const std::string verdict = job.broadcast(job.rank() == 0 ? refusal(all) : "");
  if (statuses) *statuses = std::move(all);
  return verdict;
}

void stop_workers(const MpiJob& job) {
  for (int r = 1; r < job.size(); ++r) job.send(r, kStop, "");
}

}  // namespace

std::optional<std::vector<FactorTable>> search_on_ranks(const MpiJob& job, const ModelArgs& model, const DataArgs& data,
                                                        RuntimeArgs runtime, SearchRequest request, const RankSettings& settings,
                                                        const DescribeError& describe) {
  std::optional<EvaluationSetup> setup;
  std::optional<SearchPlan> plan;
  std::exception_ptr failure;
  json status;
  try {
    // One device and a fair share of the node's cores per rank.
    if (!request.devices.empty()) runtime.device = request.devices[static_cast<size_t>(job.local_rank()) % request.devices.size()];
    else if (!settings.device_given && cuda_device_count() > 0) runtime.device = "cuda";
    runtime.device = device_for_local_rank(runtime.device, job.local_rank());
    if (!request.devices.empty()) {
      try {
        parse_device(runtime.device);  // this rank's entry of --devices: an error names that option
      } catch (const InvalidSetting& e) {
        throw InvalidSetting("devices", e.problem());
      }
    }
    request.devices.clear();
    if (runtime.threads == 0 && runtime.device == "cpu")
      runtime.threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / std::max(1, job.local_size()));
    if (settings.coordinator_only && job.size() < 2)
      throw InvalidSetting("coordinator_only", "needs at least 2 ranks (rank 0 would score no candidate and no rank would)");
    setup.emplace(open_evaluation(model, data, runtime));
    plan.emplace(plan_search(*setup, request));
    if (job.rank() == 0) check_run_directory(*setup, request);
    status = rank_status(job, runtime, model, *plan);
  } catch (...) {
    failure = std::current_exception();
    status = {{"host", job.host()}, {"device", runtime.device}, {"error", cause(describe, failure)}};
  }
  std::vector<std::string> statuses;
  const std::string refused = agree(job, status, &statuses);
  if (!refused.empty()) {
    if (job.rank() != 0) return std::nullopt;
    // Rank 0's own error keeps the wording (and exit code) of a single process.
    throw AgreedError{failure ? failure : std::make_exception_ptr(std::runtime_error(refused))};
  }

  if (job.rank() != 0) {
    serve_candidates(job, [&](size_t t) { return candidate_scorer(*setup, plan->targets.at(t), setup->model()); }, describe);
    return std::nullopt;
  }
  OtherEvaluators others;
  others.count = static_cast<size_t>(job.size() - 1);
  others.local_candidates = !settings.coordinator_only;
  const json names = [&] {
    json n = json::array();
    for (const std::string& s : statuses) n.push_back(json::parse(s));
    return n;
  }();
  RemoteCost cost;
  others.scorers_for = [&](size_t target) {
    std::vector<GroupScorer> scorers;
    for (int r = 1; r < job.size(); ++r)
      scorers.push_back(remote_scorer(job, r, target, rank_name(r, names[static_cast<size_t>(r)]), cost));
    return scorers;
  };
  std::exception_ptr error;
  std::vector<FactorTable> tables;
  try {
    std::vector<std::unique_ptr<LlamaModel>> models;
    models.push_back(std::make_unique<LlamaModel>(setup->model_on(runtime.device)));
    tables = search_planned(*setup, request, *plan, models, others);
  } catch (...) {
    error = std::current_exception();
  }
  stop_workers(job);  // the workers wait for work; none is in flight once the search has unwound
  if (error) throw AgreedError{error};
  if (job.size() > 1) fmt::print(stderr, "{}\n", cost.line());
  return tables;
}

int fail_on_ranks(const MpiJob& job, std::exception_ptr error, const DescribeError& describe) {
  agree(job, {{"host", job.host()}, {"device", "?"}, {"error", cause(describe, error)}});
  if (job.rank() == 0) throw AgreedError{error};
  return 1;
}

}  // namespace longrope
