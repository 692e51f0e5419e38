// What the processes of a distributed search say to each other: a group of candidates to score (with
// the bar a racing scorer needs) and what scoring them gave. Text (JSON) with every double exact, so
// that a rank's scores are the same bits rank 0 would have computed: the same seed gives the same table
// on any number of ranks.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "search/evolution_search.h"

namespace longrope {

struct WorkOrder {
  size_t target = 0;            // index in the job's plan
  std::vector<Genome> group;
  Cutoff cutoff;
};

std::string work_message(const WorkOrder& order);
WorkOrder read_work_message(const std::string& text);  // throws std::runtime_error on a malformed message

// `seconds`: how long the rank spent scoring the group, so that rank 0 can tell the cost of the
// messages from the cost of the forwards.
struct WorkResult {
  std::vector<Evaluation> evaluations;
  double seconds = 0;
};
std::string result_message(const WorkResult& result);
WorkResult read_result_message(const std::string& text);

}  // namespace longrope
