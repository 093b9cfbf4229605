// The tiles family's merge operator: a lone operand reads back byte for byte; operands and a
// stored value combine into the same state wherever they meet (memtable, flushed files,
// compaction); a malformed operand is skipped and never fails a read.

#include "libs/features/storage/tile_merge.h"

#include <string>

#include "catch2/catch.hpp"
#include "libs/features/aggregation/tile_state.h"
#include "libs/features/storage/tile_keys.h"
#include "storage_test_util.h"

namespace fabrique::features {
namespace {

std::unique_ptr<kv::Store> OpenTiles() {
  kv::StoreOptions options;
  options.path = "/in-memory/tiles";
  options.in_memory = true;
  options.column_families = {"tiles"};
  InstallTileMerge(&options);
  absl::StatusOr<std::unique_ptr<kv::Store>> store = kv::Store::Open(std::move(options));
  STORAGE_REQUIRE_OK(store);
  return std::move(store).value();
}

// A two-slot state holding `values` at times 1, 2, ...
TileState State(std::initializer_list<double> values) {
  TileState state(2);
  int64_t time = 0;
  for (double v : values) {
    ++time;
    state.slot(0).Add(time, v);
    state.slot(1).Add(time, 2 * v);
  }
  return state;
}

const std::string& Key() {
  static const std::string* const kKey = new std::string(TileKey("agg", "c", 0, 42));
  return *kKey;
}

void Write(kv::Store& store, const std::string& value, bool put = false) {
  kv::WriteBatch batch;
  if (put) {
    batch.Put(*store.Family("tiles"), Key(), value);
  } else {
    batch.Merge(*store.Family("tiles"), Key(), value);
  }
  STORAGE_REQUIRE_OK(store.Write(batch));
}

void Settle(kv::Store& store, const std::string& where) {
  if (where != "memtable") STORAGE_REQUIRE_OK(store.Flush());
  if (where == "compacted") STORAGE_REQUIRE_OK(store.Compact(*store.Family("tiles")));
}

TEST_CASE("A lone tile operand reads back unchanged", "[tile_merge]") {
  std::unique_ptr<kv::Store> store = OpenTiles();
  const std::string where = GENERATE("memtable", "flushed", "compacted");
  INFO(where);
  const std::string encoded = State({3, -1, 7}).Encode();
  Write(*store, encoded);
  Settle(*store, where);
  absl::StatusOr<std::string> read = store->Get(*store->Family("tiles"), Key());
  STORAGE_REQUIRE_OK(read);
  REQUIRE(*read == encoded);
}

TEST_CASE("Tile operands and a stored tile combine wherever they meet", "[tile_merge]") {
  std::unique_ptr<kv::Store> store = OpenTiles();
  const std::string where = GENERATE("memtable", "flushed", "compacted");
  const bool put = GENERATE(false, true);
  INFO(where << (put ? " over a put" : ""));
  Write(*store, State({1, 2}).Encode(), put);
  Write(*store, State({10}).Encode());
  Settle(*store, where);
  Write(*store, State({100, 1000}).Encode());
  Write(*store, "not a tile state");  // Skipped.
  Settle(*store, where);
  absl::StatusOr<std::string> read = store->Get(*store->Family("tiles"), Key());
  STORAGE_REQUIRE_OK(read);
  absl::StatusOr<TileState> state = TileState::Decode(*read);
  STORAGE_REQUIRE_OK(state);
  REQUIRE(state->slot_count() == 2);
  REQUIRE(state->slot(0).count == 5);
  REQUIRE(state->slot(0).sum == 1113);
  REQUIRE(state->slot(1).sum == 2226);
  REQUIRE(state->slot(0).min == 1);
  REQUIRE(state->slot(0).max == 1000);
}

}  // namespace
}  // namespace fabrique::features
