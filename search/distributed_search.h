// longrope search under mpirun or srun: one rank per device. Rank 0 runs the evolution, owns the run
// directory (journal, state, tables) and hands out candidates; every rank, rank 0 too unless it is
// coordinator only, scores them on its own device as they come. Baselines, validation and held-out
// scores run on rank 0. Scores are exact to the bit on any number of ranks, so the same seed gives the
// same table as one process (on evaluators that compute alike).
#pragma once

#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "search/mpi_job.h"
#include "search/search_run.h"

namespace longrope {

struct RankSettings {
  bool coordinator_only = false;  // rank 0 scores no candidate
  bool device_given = true;       // false: --device was left at its default, so a GPU node uses its GPUs
};

// Thrown at rank 0 for an error every rank has been told of (the other ranks return): the job ends
// in order. Any other exception out of these functions leaves ranks waiting, and must end the job
// with MpiJob::abort.
struct AgreedError {
  std::exception_ptr error;
};

// The one line a failed setup or scoring step reports (the command line's own wording of the error).
using DescribeError = std::function<std::string(std::exception_ptr)>;

// Every rank: chooses its device (--devices[local rank mod count]; else --device, where cuda means one
// GPU per local rank, and a --device left at its default means cuda on a node with GPUs) and CPU threads (the node's cores shared among its ranks), opens the model, plans the
// job, and rank 0 checks its run directory. The ranks then compare what they did: a rank that failed
// or disagrees on the model, the documents or the settings ends the job before any forward, with one
// line naming it. Returns the tables at rank 0, nullopt at the other ranks. Throws at rank 0 the error
// of the job (a failed rank, a failed candidate); the other ranks then return nullopt.
std::optional<std::vector<FactorTable>> search_on_ranks(const MpiJob& job, const ModelArgs& model, const DataArgs& data,
                                                        RuntimeArgs runtime, SearchRequest request, const RankSettings& settings,
                                                        const DescribeError& describe);

// A rank whose own command line failed still takes part in the agreement, so that rank 0 ends the job
// with one line naming it. Throws AgreedError{error} at rank 0; returns the exit code (1) elsewhere.
int fail_on_ranks(const MpiJob& job, std::exception_ptr error, const DescribeError& describe);

}  // namespace longrope
