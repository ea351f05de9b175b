// The register and kv workloads: seeded operations, key rotation within the
// range, requests in the client protocol's form, kv appends as lists on the
// node and strings in the history, and one-line errors for bad names.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "chaosbench/workloads/workload.h"

namespace chaosbench {
namespace {

TEST(Workloads, SameSeedSameOperations) {
  auto first = workloads::make_workload("register", 42, {100, 300});
  auto second = workloads::make_workload("register", 42, {100, 300});
  auto other = workloads::make_workload("register", 43, {100, 300});
  bool differs = false;
  for (int index = 0; index < 2000; ++index) {
    auto a = first->next();
    auto b = second->next();
    auto c = other->next();
    ASSERT_EQ(a.function, b.function);
    ASSERT_EQ(a.key, b.key);
    ASSERT_EQ(a.value, b.value);
    differs = differs || a.function != c.function || a.value != c.value;
  }
  EXPECT_TRUE(differs);
}

TEST(Workloads, RegisterRotatesKeysWithinTheRange) {
  auto workload = workloads::make_workload("register", 1, {100, 300});
  std::vector<std::string> keys;
  std::vector<int> counts;
  for (int index = 0; index < 5000; ++index) {
    auto op = workload->next();
    if (keys.empty() || keys.back() != op.key) {
      keys.push_back(op.key);
      counts.push_back(0);
    }
    ++counts.back();
  }
  ASSERT_GT(keys.size(), 16u);
  EXPECT_EQ(keys.front(), "r0");
  for (std::size_t index = 0; index + 1 < counts.size(); ++index) {  // the last key is still in use
    EXPECT_GE(counts[index], 100);
    EXPECT_LE(counts[index], 300);
  }
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), keys.size()) << "keys never come back";
  EXPECT_EQ(workload->final_reads().front().key, keys.back());
}

TEST(Workloads, RegisterRequestsFollowTheClientProtocol) {
  auto workload = workloads::make_workload("register", 1, {10, 10});
  workloads::ClientOperation cas{"cas", "r3", nlohmann::json::array({1, 2})};
  EXPECT_EQ(workload->request(cas), (nlohmann::json{{"op", "cas"}, {"key", "r3"}, {"from", 1}, {"to", 2}}));
  workloads::ClientOperation read{"read", "r3", nullptr};
  EXPECT_EQ(workload->completion_value(read, 4), 4);
  EXPECT_EQ(workload->model(), checkers::ModelKind::cas_register);
}

TEST(Workloads, KvAppendsAreListsOnTheNodeAndStringsInTheHistory) {
  auto workload = workloads::make_workload("kv", 9, {50, 50});
  workloads::ClientOperation put{"put", "k1", "5;"};
  EXPECT_EQ(workload->request(put)["value"], nlohmann::json::array({"5;"}));
  workloads::ClientOperation get{"get", "k1", nullptr};
  EXPECT_EQ(workload->completion_value(get, nlohmann::json::array({"5;", "7;"})), "5;7;");
  EXPECT_TRUE(workload->completion_value(get, nullptr).is_null());
  std::set<std::string> functions, keys;
  for (int index = 0; index < 500; ++index) {
    auto op = workload->next();
    functions.insert(op.function);
    keys.insert(op.key);
  }
  EXPECT_EQ(functions, (std::set<std::string>{"get", "put", "append"}));
  EXPECT_GE(keys.size(), 10u);
  EXPECT_EQ(workload->final_reads().size(), 3u);
}

TEST(Workloads, BadNamesAndRotationsAreOneLineErrors) {
  EXPECT_THROW(workloads::make_workload("ledger", 1, {}), std::invalid_argument);
  EXPECT_EQ(workloads::parse_key_rotation("150").minimum, 150u);
  EXPECT_EQ(workloads::parse_key_rotation("100-300").maximum, 300u);
  for (const char* bad : {"", "0", "x", "300-100", "1-", "-5"}) {
    EXPECT_THROW(workloads::parse_key_rotation(bad), std::invalid_argument) << bad;
  }
}

}  // namespace
}  // namespace chaosbench
