// The rw-register workload (Elle): txns of ["w",k,v] and ["r",k,null]
// micro-ops (TxnWorkload's generator), every written value unique; judged by
// elle-rw-register against strict serializability.
#pragma once

#include "chaosbench/workloads/txn_workload.h"

namespace chaosbench::workloads {

class RwRegisterWorkload : public TxnWorkload {
 public:
  RwRegisterWorkload(std::uint64_t seed, double read_fraction, const KeyPoolOptions& keys = {})
      : TxnWorkload(seed, read_fraction, "w", keys) {}
  std::string_view name() const override { return "rw-register"; }
  std::vector<std::string> default_checkers() const override { return {"elle-rw-register"}; }
};

}  // namespace chaosbench::workloads
