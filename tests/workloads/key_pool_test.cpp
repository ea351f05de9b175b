// The transactional workloads' pool of active keys (Elle's generator): a
// Zipfian choice favours low ranks in the proportions 1/(i+1)^s, a uniform one
// is flat; a key retires at exactly max-writes-per-key writes and a fresh key
// takes its rank; the same seed gives the same txns; bad counts and
// distributions are refused with the flag named.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "chaosbench/workloads/key_pool.h"
#include "chaosbench/workloads/list_append_workload.h"
#include "chaosbench/workloads/rw_register_workload.h"
#include "chaosbench/workloads/workload.h"

namespace chaosbench::workloads {
namespace {

std::vector<double> rank_shares(const KeyPool& pool, std::uint64_t seed, int draws) {
  std::mt19937_64 random(seed);
  std::vector<double> shares(pool.active_keys().size(), 0);
  for (int draw = 0; draw < draws; ++draw) shares.at(pool.choose_rank(random)) += 1.0 / draws;
  return shares;
}

TEST(KeyPool, DefaultsAreElles) {
  KeyPool zipf(KeyPoolOptions{});
  EXPECT_EQ(zipf.distribution(), KeyDistribution::zipf);
  EXPECT_EQ(zipf.active_keys().size(), 10u);
  EXPECT_EQ(zipf.max_writes_per_key(), 32u);
  KeyPool uniform(KeyPoolOptions{KeyDistribution::uniform, 0, 32});
  EXPECT_EQ(uniform.active_keys().size(), 3u);
  EXPECT_EQ(zipf.active_keys(), (std::vector<std::uint64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(KeyPool, ZipfFavoursLowRanksInZipfsProportions) {
  KeyPool pool(KeyPoolOptions{KeyDistribution::zipf, 10, 32});
  const std::vector<double> shares = rank_shares(pool, 1, 400000);
  double harmonic = 0;
  for (int rank = 1; rank <= 10; ++rank) harmonic += 1 / std::pow(rank, kZipfSkew);
  for (std::size_t rank = 0; rank < shares.size(); ++rank) {
    const double expected = 1 / std::pow(static_cast<double>(rank + 1), kZipfSkew) / harmonic;
    EXPECT_NEAR(shares[rank], expected, 0.004) << "rank " << rank;
    if (rank + 1 < shares.size()) {
      EXPECT_GT(shares[rank], shares[rank + 1]) << "rank " << rank;
    }
  }
  EXPECT_NEAR(shares[0] / shares[1], 2.0, 0.05);
  EXPECT_NEAR(shares[0] / shares[9], 10.0, 0.6);
}

TEST(KeyPool, UniformIsFlat) {
  KeyPool pool(KeyPoolOptions{KeyDistribution::uniform, 5, 32});
  for (double share : rank_shares(pool, 2, 200000)) EXPECT_NEAR(share, 0.2, 0.005);
}

TEST(KeyPool, AKeyRetiresAtExactlyMaxWritesPerKeyAndAFreshKeyTakesItsRank) {
  KeyPool pool(KeyPoolOptions{KeyDistribution::uniform, 3, 4});
  for (int write = 1; write < 4; ++write) {
    pool.count_write(1);
    EXPECT_EQ(pool.active_keys(), (std::vector<std::uint64_t>{0, 1, 2})) << "after write " << write;
  }
  pool.count_write(1);
  EXPECT_EQ(pool.active_keys(), (std::vector<std::uint64_t>{0, 3, 2})) << "the 4th write retires key 1";
  for (int write = 0; write < 3; ++write) pool.count_write(1);
  EXPECT_EQ(pool.key_at(1), 3u) << "the fresh key has a whole budget of its own";
  pool.count_write(1);
  EXPECT_EQ(pool.key_at(1), 4u);
  KeyPool single_write(KeyPoolOptions{KeyDistribution::zipf, 2, 1});
  single_write.count_write(0);
  EXPECT_EQ(single_write.active_keys(), (std::vector<std::uint64_t>{2, 1}));
}

// Through the workload: each retired key got exactly max-writes-per-key writes,
// the active ones (the final read's) fewer.
TEST(KeyPool, TxnWorkloadsRetireKeysAtExactlyMaxWritesPerKey) {
  for (const std::string name : {"list-append", "rw-register"}) {
    for (KeyDistribution distribution : {KeyDistribution::uniform, KeyDistribution::zipf}) {
      auto workload = make_workload(name, 9, {}, 0.3, KeyPoolOptions{distribution, 4, 7});
      const std::string write = name == "list-append" ? "append" : "w";
      std::map<std::string, std::uint64_t> writes_per_key;
      for (int index = 0; index < 3000; ++index) {
        for (const auto& micro_op : workload->next().value) {
          if (micro_op[0] == write) ++writes_per_key[micro_op[1].get<std::string>()];
        }
      }
      std::set<std::string> active;
      const std::vector<ClientOperation> final_reads = workload->final_reads();
      for (const auto& micro_op : final_reads.at(0).value) active.insert(micro_op[1].get<std::string>());
      ASSERT_EQ(active.size(), 4u);
      std::size_t retired = 0;
      for (const auto& [key, writes] : writes_per_key) {
        if (active.count(key)) {
          EXPECT_LT(writes, 7u) << name << " " << key;
        } else {
          EXPECT_EQ(writes, 7u) << name << " " << key;
          ++retired;
        }
      }
      EXPECT_GT(retired, 100u) << name;
    }
  }
}

TEST(KeyPool, SameSeedSameTxnsOtherSeedOrDistributionOthers) {
  const KeyPoolOptions zipf{KeyDistribution::zipf, 6, 5}, uniform{KeyDistribution::uniform, 6, 5};
  auto first = make_workload("list-append", 42, {}, 0.5, zipf);
  auto second = make_workload("list-append", 42, {}, 0.5, zipf);
  auto other_seed = make_workload("list-append", 43, {}, 0.5, zipf);
  auto other_distribution = make_workload("list-append", 42, {}, 0.5, uniform);
  bool seed_differs = false, distribution_differs = false;
  for (int index = 0; index < 500; ++index) {
    const ClientOperation a = first->next(), b = second->next();
    ASSERT_EQ(a.value, b.value) << index;
    seed_differs = seed_differs || other_seed->next().value != a.value;
    distribution_differs = distribution_differs || other_distribution->next().value != a.value;
  }
  EXPECT_TRUE(seed_differs);
  EXPECT_TRUE(distribution_differs);
  EXPECT_EQ(first->final_reads()[0].value, second->final_reads()[0].value);
}

TEST(KeyPool, BadValuesAreRefusedNamingTheFlag) {
  EXPECT_EQ(parse_key_distribution("zipf"), KeyDistribution::zipf);
  EXPECT_EQ(parse_key_distribution("uniform"), KeyDistribution::uniform);
  try {
    parse_key_distribution("exponential");
    ADD_FAILURE() << "exponential is not taken";
  } catch (const std::invalid_argument& error) {
    EXPECT_EQ(std::string(error.what()), "--key-dist: unknown distribution 'exponential' (known: uniform, zipf)");
  }
  EXPECT_EQ(parse_pool_count("--key-count", "12", 100), 12u);
  for (const char* text : {"0", "-1", "abc", "5x", "", "101", "99999999999999999999999"}) {
    try {
      parse_pool_count("--key-count", text, 100);
      ADD_FAILURE() << "'" << text << "' taken";
    } catch (const std::invalid_argument& error) {
      EXPECT_EQ(std::string(error.what()),
                fmt::format("--key-count '{}': expected a whole number from 1 to 100", text));
    }
  }
  EXPECT_THROW(KeyPool(KeyPoolOptions{KeyDistribution::zipf, 10, 0}), std::invalid_argument);
  EXPECT_THROW(KeyPool(KeyPoolOptions{KeyDistribution::zipf, kMostActiveKeys + 1, 32}), std::invalid_argument);
  EXPECT_THROW(make_workload("rw-register", 1, {}, 0.5, KeyPoolOptions{KeyDistribution::uniform, 3, 0}),
               std::invalid_argument);
}

}  // namespace
}  // namespace chaosbench::workloads
