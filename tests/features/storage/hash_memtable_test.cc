// The online family's hash memtable and history's run memtable answer every read as RocksDB's
// skip list does: the latest value and the value under a snapshot of keys that share buckets and
// prefixes, puts, deletes and merge operands over them, whole-key scans, and the same again once
// flushed, with keys in bytewise order (the flush's fast sort) and in another order, written one
// by one and in ascending runs (the run memtable's merge).

#include "libs/features/storage/hash_memtable.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/features/storage/family_tuning.h"
#include "libs/features/storage/run_memtable.h"
#include "libs/kv/store.h"
#include "rocksdb/comparator.h"
#include "rocksdb/merge_operator.h"
#include "rocksdb/options.h"
#include "storage_test_util.h"

namespace fabrique::features {
namespace {

// Appends its operands to the value, comma-separated: their order is what it shows.
class AppendOperator : public rocksdb::AssociativeMergeOperator {
 public:
  const char* Name() const override { return "test.Append"; }
  bool Merge(const rocksdb::Slice&, const rocksdb::Slice* existing, const rocksdb::Slice& value,
             std::string* out, rocksdb::Logger*) const override {
    *out = existing != nullptr ? existing->ToString() + "," + value.ToString() : value.ToString();
    return true;
  }
};

// "hashed" with the hash memtable (16 buckets, so that keys share them) or the run memtable,
// "plain" with RocksDB's skip list; both append merge operands, and order keys bytewise or in
// reverse.
std::unique_ptr<kv::Store> OpenTwoFamilies(bool reverse, bool runs) {
  kv::StoreOptions options;
  options.path = "/in-memory/hash-memtable";
  options.in_memory = true;
  options.column_families = {"hashed", "plain"};
  if (reverse) {
    options.configure_family = [](const std::string&, rocksdb::ColumnFamilyOptions* cf) {
      cf->comparator = rocksdb::ReverseBytewiseComparator();
    };
  }
  FamilyTuning tuning;
  tuning.history_family = "unused";
  tuning.online_family = "hashed";
  tuning.online_hash_buckets = 16;
  TuneFeatureFamilies(&options, tuning);
  auto previous = std::move(options.configure_family);
  options.configure_family = [previous, runs](const std::string& name,
                                              rocksdb::ColumnFamilyOptions* cf) {
    if (previous) previous(name, cf);
    cf->merge_operator = std::make_shared<AppendOperator>();
    if (runs && name == "hashed") cf->memtable_factory = NewRunMemTableFactory(cf->comparator);
  };
  absl::StatusOr<std::unique_ptr<kv::Store>> store = kv::Store::Open(std::move(options));
  STORAGE_REQUIRE_OK(store);
  return std::move(store).value();
}

std::optional<std::string> Read(kv::Store& store, const std::string& family, const std::string& key,
                                const kv::Snapshot* snapshot) {
  kv::ReadOptions read;
  read.snapshot = snapshot;
  absl::StatusOr<std::string> value = store.Get(*store.Family(family), key, read);
  if (value.ok()) return *value;
  REQUIRE(value.status().code() == absl::StatusCode::kNotFound);
  return std::nullopt;
}

std::map<std::string, std::string> ScanAll(kv::Store& store, const std::string& family) {
  kv::ReadOptions read;
  read.total_order_seek = true;
  std::map<std::string, std::string> all;
  STORAGE_REQUIRE_OK(store.Scan(
      *store.Family(family), kv::KeyRange::All(),
      [&all](absl::string_view k, absl::string_view v) {
        all.emplace(std::string(k), std::string(v));
        return true;
      },
      read));
  return all;
}

TEST_CASE("The hash and run memtables read as the skip list does", "[hash_memtable]") {
  const bool reverse = GENERATE(false, true);
  const bool runs = GENERATE(false, true);
  INFO((reverse ? "reverse bytewise keys" : "bytewise keys"));
  INFO((runs ? "run memtable" : "hash memtable"));
  std::unique_ptr<kv::Store> store = OpenTwoFamilies(reverse, runs);
  const kv::ColumnFamily hashed = *store->Family("hashed");
  const kv::ColumnFamily plain = *store->Family("plain");
  // Keys that are prefixes of one another, long ones that differ in their second 8 bytes or past
  // their first 16, and more keys than buckets.
  std::vector<std::string> keys;
  for (int i = 0; i < 60; ++i) {
    keys.push_back("k" + std::to_string(i));
    keys.push_back("k" + std::to_string(i) + "x");
    keys.push_back("k" + std::to_string(i % 7) + "-abcdef" + std::to_string(i));
    keys.push_back("k" + std::to_string(i % 7) + "-abcdef-0123456789-" + std::to_string(i));
  }
  std::mt19937 random(7);
  std::vector<kv::Snapshot> snapshots;
  auto check = [&](const std::string& when) {
    INFO(when);
    for (const std::string& key : keys) {
      INFO(key);
      REQUIRE(Read(*store, "hashed", key, nullptr) == Read(*store, "plain", key, nullptr));
      for (const kv::Snapshot& snapshot : snapshots) {
        REQUIRE(Read(*store, "hashed", key, &snapshot) == Read(*store, "plain", key, &snapshot));
      }
    }
    absl::StatusOr<std::vector<std::optional<std::string>>> many = store->MultiGet(hashed, keys);
    absl::StatusOr<std::vector<std::optional<std::string>>> expected = store->MultiGet(plain, keys);
    STORAGE_REQUIRE_OK(many);
    STORAGE_REQUIRE_OK(expected);
    REQUIRE(*many == *expected);
    REQUIRE(ScanAll(*store, "hashed") == ScanAll(*store, "plain"));
  };
  for (int round = 0; round < 6; ++round) {
    for (int op = 0; op < 400; ++op) {
      // One key, or every third op a run of distinct keys in the family's order.
      std::vector<std::string> written;
      for (size_t k = op % 3 == 0 ? 40 : 1; written.size() < k;) {
        const std::string& key = keys[random() % keys.size()];
        if (std::find(written.begin(), written.end(), key) == written.end()) written.push_back(key);
      }
      std::sort(written.begin(), written.end());
      if (reverse) std::reverse(written.begin(), written.end());
      kv::WriteBatch batch;
      for (const std::string& key : written) {
        const std::string value = std::to_string(random() % 1000);
        switch (random() % 4) {
          case 0:
            batch.Put(hashed, key, value).Put(plain, key, value);
            break;
          case 1:
            batch.Delete(hashed, key).Delete(plain, key);
            break;
          default:  // Merge operands pile up on a key, over puts and deletes.
            batch.Merge(hashed, key, value).Merge(plain, key, value);
            break;
        }
      }
      STORAGE_REQUIRE_OK(store->Write(batch));
      if (op % 150 == 0) snapshots.push_back(store->TakeSnapshot());
    }
    REQUIRE(*store->IntProperty(hashed, "rocksdb.num-entries-active-mem-table") > 0);
    check("in the memtable, round " + std::to_string(round));
    if (round % 2 == 1) {
      STORAGE_REQUIRE_OK(store->Flush());
      check("flushed, round " + std::to_string(round));
    }
  }
  snapshots.clear();
  STORAGE_REQUIRE_OK(store->Compact(hashed));
  STORAGE_REQUIRE_OK(store->Compact(plain));
  check("compacted");
}

}  // namespace
}  // namespace fabrique::features
