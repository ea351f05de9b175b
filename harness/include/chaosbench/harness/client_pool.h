// The client pool: `concurrency` logical processes on one Boost.Asio thread,
// each bound to a node (slot i -> node i mod N; with sticky_nodes off, each
// workload op goes to a node drawn at random, as behind a load balancer, while
// final reads still go to every slot's own node) and issuing one operation at a
// time over the newline-JSON client protocol. A definite not_leader is retried
// at the hinted leader (at most twice) within the same operation. Outcomes:
// ok; fail for definite errors and refused connections; info for timeouts,
// indefinite errors and broken connections, after which the process gets a new
// number and fresh connections. Open loop at `rate` (latency measured from the
// intended send time, so stalls are not hidden) or closed loop (rate 0).
// run() and run_final_reads() block the calling thread; request_stop() is thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "chaosbench/harness/cluster.h"
#include "chaosbench/harness/history_recorder.h"
#include "chaosbench/harness/run_results.h"
#include "chaosbench/workloads/workload.h"

namespace chaosbench::harness {

struct ClientPoolOptions {
  std::vector<NodeEndpoint> endpoints;
  int concurrency = 10;
  double rate = 200;  // intended operations per second; 0 = closed loop
  std::chrono::milliseconds operation_timeout{2000};
  bool sticky_nodes = true;        // false: each op to a random node (seeded)
  std::uint64_t routing_seed = 0;  // the run's seed
};

struct ClientPoolStatistics {
  std::vector<std::int64_t> ok_latencies_nanoseconds;  // ok ops, from intended send to reply
  std::vector<CompletionSample> completions;           // every completion, in time order
  std::uint64_t invoked = 0;
  std::uint64_t redirects = 0;
  std::uint64_t intended_not_sent = 0;  // open loop: still queued when the run ended
};

class ClientPool {
 public:
  ClientPool(ClientPoolOptions options, workloads::Workload& workload, HistoryRecorder& recorder);
  ~ClientPool();
  // Issues the workload's operations for `duration` or until request_stop(),
  // then waits for those in flight (each ends at its timeout at the latest).
  void run(std::chrono::milliseconds duration);
  // Every process issues each read once, closed loop (after the faults are healed).
  void run_final_reads(const std::vector<workloads::ClientOperation>& reads);
  void request_stop();
  const ClientPoolStatistics& statistics() const;

 private:
  class Implementation;
  std::unique_ptr<Implementation> implementation_;
};

}  // namespace chaosbench::harness
