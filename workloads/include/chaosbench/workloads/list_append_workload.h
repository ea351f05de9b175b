// The list-append workload (Elle): txns of ["append",k,v] and ["r",k,null]
// micro-ops (TxnWorkload's generator), every appended value unique; judged by
// elle-list-append against strict serializability.
#pragma once

#include "chaosbench/workloads/txn_workload.h"

namespace chaosbench::workloads {

class ListAppendWorkload : public TxnWorkload {
 public:
  ListAppendWorkload(std::uint64_t seed, double read_fraction, const KeyPoolOptions& keys = {})
      : TxnWorkload(seed, read_fraction, "append", keys) {}
  std::string_view name() const override { return "list-append"; }
  std::vector<std::string> default_checkers() const override { return {"elle-list-append"}; }
};

}  // namespace chaosbench::workloads
