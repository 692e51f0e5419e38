// MpiJob: this process's place in an MPI job (mpirun, srun) and the few messages a distributed search
// sends. No MPI type leaves this file pair, so the rest of the search compiles without MPI headers.
// Every call is serialised by one process-wide lock, and send/receive wait by polling with short
// sleeps: a rank waiting for a reply (or for work) leaves its cores to the forwards instead of
// spinning in MPI. (gather and broadcast are MPI's own collectives, used at setup only.)
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace longrope {

class MpiJob {
 public:
  // The job this process is a rank of, when an MPI launcher started it (Open MPI's mpirun, Slurm's
  // srun, MPICH's hydra: seen in the environment), else nullptr. Throws std::runtime_error when a
  // launcher started several ranks but this build has no MPI.
  static std::unique_ptr<MpiJob> join();
  ~MpiJob();  // MPI_Finalize, which waits for every rank: a rank that leaves alone must abort()
  // Ends every rank of the job at once (MPI_Abort) with this exit code.
  [[noreturn]] void abort(int code) const;
  MpiJob(const MpiJob&) = delete;
  MpiJob& operator=(const MpiJob&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_rank() const { return local_rank_; }  // among the ranks on this node
  int local_size() const { return local_size_; }
  const std::string& host() const { return host_; }

  // Collective. At rank 0, every rank's `mine` in rank order; elsewhere, empty.
  std::vector<std::string> gather(const std::string& mine) const;
  // Collective. Rank 0's `text` on every rank.
  std::string broadcast(const std::string& text) const;

  struct Message {
    int from = 0;
    int tag = 0;
    std::string body;
  };
  void send(int to, int tag, const std::string& body) const;
  Message receive(int from) const;  // the next message from rank `from`; blocks (polling)

 private:
  MpiJob() = default;
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
  std::string host_;
};

// True when the environment says an MPI launcher started this process.
bool launched_by_mpi();

}  // namespace longrope
