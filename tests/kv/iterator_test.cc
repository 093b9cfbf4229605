// Bounded iteration and snapshots: a prefix scan returns exactly the keys with the prefix, in
// order, and a snapshot (or an iterator) is isolated from later writes.

#include "libs/kv/iterator.h"

#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "kv_test_util.h"
#include "libs/kv/key_codec.h"
#include "libs/kv/store.h"

namespace fabrique::kv {
namespace {

using testing::OpenInMemory;
using testing::RequireFamily;

std::vector<std::string> CollectKeys(const Store& store, ColumnFamily family, const KeyRange& range,
                                     const ReadOptions& options = {}) {
  std::vector<std::string> keys;
  KV_REQUIRE_OK(store.Scan(
      family, range,
      [&](absl::string_view key, absl::string_view) {
        keys.emplace_back(key);
        return true;
      },
      options));
  return keys;
}

TEST_CASE("Prefix iteration returns exactly the prefix range, in order", "[iterator]") {
  std::unique_ptr<Store> store = OpenInMemory({"data"});
  const ColumnFamily data = RequireFamily(*store, "data");
  // Random keys over a tiny alphabet with 0x00 and 0xFF, so prefixes overlap a lot and include
  // the awkward all-0xFF ones.
  std::mt19937_64 rng(11);
  static constexpr char kAlphabet[] = {'\x00', 'a', 'b', '\xff'};
  std::set<std::string> written;
  for (int i = 0; i < 2000; ++i) {
    std::string key(1 + rng() % 5, '\0');
    for (char& c : key) c = kAlphabet[rng() % sizeof(kAlphabet)];
    written.insert(key);
    KV_REQUIRE_OK(store->Put(data, key, "v"));
  }
  KV_REQUIRE_OK(store->Flush());  // Half the checks run over SST files, half over the memtable.
  KV_REQUIRE_OK(store->Put(data, "a-after-flush", "v"));
  written.insert("a-after-flush");

  std::vector<std::string> prefixes = {
      "", "a", "ab", "\xff", "\xff\xff", std::string("\0", 1), "b\xff", "zzz"};
  for (int i = 0; i < 50; ++i) {
    auto it = written.begin();
    std::advance(it, rng() % written.size());
    prefixes.push_back(it->substr(0, rng() % (it->size() + 1)));
  }
  for (const std::string& prefix : prefixes) {
    std::vector<std::string> expected;
    for (const std::string& key : written) {
      if (key.compare(0, prefix.size(), prefix) == 0) expected.push_back(key);
    }
    INFO("prefix of " << prefix.size() << " bytes");
    REQUIRE(CollectKeys(*store, data, KeyRange::Prefix(prefix)) == expected);
  }
}

TEST_CASE("A composite prefix selects one entity, latest event first", "[iterator]") {
  std::unique_ptr<Store> store = OpenInMemory({"history"});
  const ColumnFamily history = RequireFamily(*store, "history");
  auto key = [](const std::string& entity, int64_t time) {
    return KeyBuilder().AddString(entity).AddDescendingInt64(time).key();
  };
  for (const std::string& entity : std::vector<std::string>{"a", std::string("a\0", 2), "ab", ""}) {
    for (int64_t time : {5, 1, 9}) KV_REQUIRE_OK(store->Put(history, key(entity, time), entity));
  }

  const std::string prefix = KeyBuilder().AddString("a").key();
  REQUIRE(CollectKeys(*store, history, KeyRange::Prefix(prefix)) ==
          std::vector<std::string>{key("a", 9), key("a", 5), key("a", 1)});

  // "Latest value at or before t" is one Seek: the first key at or after desc(t).
  absl::StatusOr<std::unique_ptr<Iterator>> it =
      store->NewIterator(history, KeyRange::Prefix(prefix));
  KV_REQUIRE_OK(it);
  (*it)->Seek(key("a", 7));
  REQUIRE((*it)->Valid());
  REQUIRE((*it)->key() == key("a", 5));
  (*it)->Seek(key("a", 0));
  REQUIRE_FALSE((*it)->Valid());
  KV_REQUIRE_OK((*it)->status());
}

TEST_CASE("Iterators stay inside their range in every direction", "[iterator]") {
  std::unique_ptr<Store> store = OpenInMemory({"data"});
  const ColumnFamily data = RequireFamily(*store, "data");
  for (const char* key : {"a", "b1", "b2", "b3", "c"}) KV_REQUIRE_OK(store->Put(data, key, key));
  absl::StatusOr<std::unique_ptr<Iterator>> opened =
      store->NewIterator(data, KeyRange::Between("b", "c"));
  KV_REQUIRE_OK(opened);
  Iterator& it = **opened;

  it.SeekToLast();
  REQUIRE(it.key() == "b3");
  it.Prev();
  REQUIRE(it.key() == "b2");
  REQUIRE(it.value() == "b2");
  it.Prev();
  it.Prev();
  REQUIRE_FALSE(it.Valid());

  it.Seek("a");  // Below the range: clamped to its start.
  REQUIRE(it.key() == "b1");
  it.SeekForPrev("zz");  // Above the range: clamped to its end.
  REQUIRE(it.key() == "b3");
  it.SeekForPrev("b2x");
  REQUIRE(it.key() == "b2");
  it.SeekToFirst();
  REQUIRE(it.key() == "b1");
  it.Next();
  it.Next();
  it.Next();
  REQUIRE_FALSE(it.Valid());
  KV_REQUIRE_OK(it.status());
  REQUIRE(CollectKeys(*store, data, KeyRange::All()).size() == 5);
}

TEST_CASE("Scan stops when the visitor returns false", "[iterator]") {
  std::unique_ptr<Store> store = OpenInMemory({"data"});
  const ColumnFamily data = RequireFamily(*store, "data");
  for (int i = 0; i < 10; ++i) KV_REQUIRE_OK(store->Put(data, std::to_string(i), "v"));
  int visited = 0;
  KV_REQUIRE_OK(store->Scan(data, KeyRange::All(),
                            [&](absl::string_view, absl::string_view) { return ++visited < 3; }));
  REQUIRE(visited == 3);
}

TEST_CASE("Snapshots isolate reads and iterators from later writes", "[snapshot]") {
  std::unique_ptr<Store> store = OpenInMemory({"online", "history"});
  const ColumnFamily online = RequireFamily(*store, "online");
  const ColumnFamily history = RequireFamily(*store, "history");
  KV_REQUIRE_OK(store->Put(online, "k1", "old"));
  KV_REQUIRE_OK(store->Put(history, "h1", "old"));

  Snapshot snapshot = store->TakeSnapshot();
  ReadOptions at;
  at.snapshot = &snapshot;
  absl::StatusOr<std::unique_ptr<Iterator>> live = store->NewIterator(online);
  KV_REQUIRE_OK(live);

  KV_REQUIRE_OK(store->Put(online, "k1", "new"));
  KV_REQUIRE_OK(store->Put(online, "k2", "new"));
  KV_REQUIRE_OK(store->Delete(history, "h1"));

  REQUIRE(*store->Get(online, "k1", at) == "old");
  KV_REQUIRE_CODE(store->Get(online, "k2", at), absl::StatusCode::kNotFound);
  REQUIRE(*store->Get(history, "h1", at) == "old");
  REQUIRE(CollectKeys(*store, online, KeyRange::All(), at) == std::vector<std::string>{"k1"});
  // An iterator without a snapshot reads the state of when it was created.
  (*live)->SeekToFirst();
  REQUIRE((*live)->value() == "old");
  (*live)->Next();
  REQUIRE_FALSE((*live)->Valid());

  REQUIRE(*store->Get(online, "k1") == "new");
  KV_REQUIRE_CODE(store->Get(history, "h1"), absl::StatusCode::kNotFound);

  Snapshot later = store->TakeSnapshot();
  REQUIRE(later.sequence_number() > snapshot.sequence_number());
  Snapshot moved = std::move(later);
  REQUIRE(moved.get() != nullptr);
  REQUIRE(later.get() == nullptr);  // NOLINT(bugprone-use-after-move): checks the move.
}

}  // namespace
}  // namespace fabrique::kv
