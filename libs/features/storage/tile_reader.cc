#include "libs/features/storage/tile_reader.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/features/aggregation/tile_pyramid.h"
#include "libs/features/aggregation/tile_state.h"
#include "libs/features/storage/storage_keys.h"
#include "libs/features/storage/tile_keys.h"
#include "libs/kv/iterator.h"
#include "libs/kv/key_codec.h"

namespace fabrique::features {
namespace {

// The most tiles stepped over between two runs before seeking instead.
constexpr int kMaxSteps = 4;

// The order of tile keys within an entity.
bool KeyOrder(const TileRef& a, const TileRef& b) {
  return a.level != b.level ? a.level < b.level : a.index < b.index;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TileReader>> TileReader::Create(Options options) {
  if (options.store == nullptr) {
    return absl::InvalidArgumentError("TileReaderOptions.store is required");
  }
  ASSIGN_OR_RETURN(kv::ColumnFamily tiles, options.store->Family(options.tiles_family));
  return std::unique_ptr<TileReader>(new TileReader(std::move(options), tiles));
}

TileReader::Covers TileReader::CoversOf(const AggregationPlan& plan, int64_t as_of_micros,
                                        absl::Span<const std::pair<int, int>> outputs) {
  Covers c;
  // The distinct window lengths asked for, and the window of each output.
  std::vector<int64_t> lengths;
  c.window_of.resize(outputs.size());
  for (size_t o = 0; o < outputs.size(); ++o) {
    const int64_t k = plan.aggregations()[outputs[o].first].window_tiles[outputs[o].second];
    auto it = std::find(lengths.begin(), lengths.end(), k);
    if (it == lengths.end()) it = lengths.insert(lengths.end(), k);
    c.window_of[o] = static_cast<size_t>(it - lengths.begin());
  }
  c.cover =
      CoverTilesOf(plan.pyramid(), plan.pyramid().BaseIndex(as_of_micros), std::move(lengths));
  return c;
}

std::shared_ptr<const TileReader::CoverTiles> TileReader::CoverTilesOf(
    const TilePyramid& pyramid, int64_t base, std::vector<int64_t> lengths) {
  // The covers of this thread's recent lookups: every lookup of a group within one base tile
  // computes the same ones, which cost about a tenth of a cached lookup's CPU (allocations, a
  // sort) when computed each time. Per thread, so that lookups share no lock for them.
  constexpr size_t kRecent = 8;
  thread_local std::vector<std::shared_ptr<const CoverTiles>> recent;
  for (const std::shared_ptr<const CoverTiles>& c : recent) {
    if (c->base == base && c->lengths == lengths && c->tile_micros == pyramid.tile_micros() &&
        c->fanout == pyramid.fanout() && c->levels == pyramid.levels()) {
      return c;
    }
  }
  auto c = std::make_shared<CoverTiles>();
  c->tile_micros = pyramid.tile_micros();
  c->fanout = pyramid.fanout();
  c->levels = pyramid.levels();
  c->base = base;
  c->lengths = std::move(lengths);
  // Each window's cover; then every tile any window needs, once, in key order (level, then
  // index), with the set of windows whose cover names it (covers of different windows may cut
  // the same span into different tiles, so membership comes from the covers, not the times).
  std::vector<std::vector<TileRef>> covers(c->lengths.size());
  for (size_t w = 0; w < c->lengths.size(); ++w) {
    pyramid.Cover(base - c->lengths[w], base + 1, &covers[w]);
    c->tiles.insert(c->tiles.end(), covers[w].begin(), covers[w].end());
  }
  std::sort(c->tiles.begin(), c->tiles.end(), KeyOrder);
  c->tiles.erase(std::unique(c->tiles.begin(), c->tiles.end()), c->tiles.end());
  c->words = (c->lengths.size() + 63) / 64;
  c->members.assign(c->tiles.size() * c->words, 0);
  for (size_t w = 0; w < c->lengths.size(); ++w) {
    for (const TileRef& ref : covers[w]) {
      const size_t i =
          std::lower_bound(c->tiles.begin(), c->tiles.end(), ref, KeyOrder) - c->tiles.begin();
      c->members[i * c->words + w / 64] |= uint64_t{1} << (w % 64);
    }
  }
  if (recent.size() == kRecent) recent.erase(recent.begin());
  recent.push_back(c);
  return c;
}

std::vector<TileReader::TileRun> TileReader::RunsOf(absl::Span<const TileRef> tiles) {
  std::vector<TileRun> runs;
  for (size_t i = 0; i < tiles.size(); ++i) {
    if (runs.empty() || runs.back().level != tiles[i].level || runs.back().end != tiles[i].index) {
      runs.push_back({tiles[i].level, tiles[i].index, tiles[i].index, i});
    }
    runs.back().end = tiles[i].index + 1;
  }
  return runs;
}

absl::Status TileReader::Read(const std::string& group, const AggregationPlan& plan,
                              absl::Span<const std::string> entities, int64_t as_of_micros,
                              absl::Span<const std::pair<int, int>> outputs,
                              std::vector<std::vector<std::optional<double>>>* values,
                              bool memory_only) const {
  const Covers covers = CoversOf(plan, as_of_micros, outputs);
  const CoverTiles& cover = *covers.cover;
  const size_t lengths = cover.lengths.size();
  // One state per entity and window, all of the plan's slot layout; each tile read is decoded
  // once and merged into the windows that name it.
  std::vector<TileState> windows(entities.size() * lengths, TileState(plan.slot_fields()));
  if (options_.cache != nullptr) {
    RETURN_IF_ERROR(ReadCached(group, plan, entities, as_of_micros, cover, memory_only, &windows));
  } else {
    TileState tile(plan.slot_fields());
    auto add = [&](size_t e, size_t i, absl::string_view value) -> absl::Status {
      tile.Reset();
      RETURN_IF_ERROR(tile.MergeEncoded(value));
      for (size_t w = 0; w < lengths; ++w) {
        if (cover.Names(i, w)) windows[e * lengths + w].Merge(tile);
      }
      return absl::OkStatus();
    };
    const std::vector<TileRun> runs = RunsOf(cover.tiles);
    absl::Status read = ReadRuns(group, entities, runs, memory_only, add);
    if (memory_only && !read.ok() && !kv::IsNotInMemory(read)) {
      // An iterator reports a read that needed the disk as a plain error; point reads tell it
      // apart (kv::IsNotInMemory), so the caller can hand the lookup to a thread that may wait.
      for (TileState& window : windows) window.Reset();
      read = ReadPoints(group, entities, cover.tiles, memory_only, add);
    }
    RETURN_IF_ERROR(read);
  }

  values->assign(outputs.size(), std::vector<std::optional<double>>(entities.size()));
  for (size_t e = 0; e < entities.size(); ++e) {
    for (size_t o = 0; o < outputs.size(); ++o) {
      const PlannedAggregation& a = plan.aggregations()[outputs[o].first];
      (*values)[o][e] =
          FinalizeSlot(a.function, windows[e * lengths + covers.window_of[o]].slot(a.slot));
    }
  }
  return absl::OkStatus();
}

absl::Status TileReader::ReadRuns(const std::string& group, absl::Span<const std::string> entities,
                                  absl::Span<const TileRun> runs, bool memory_only,
                                  const OnTile& on_tile) const {
  // Most tiles a cover names are absent (no event in them): one Seek per run of consecutive
  // tiles and a forward step over the few present ones costs less than a point read of each.
  kv::ReadOptions options;
  options.memory_only = memory_only;
  ASSIGN_OR_RETURN(
      std::unique_ptr<kv::Iterator> it,
      options_.store->NewIterator(
          tiles_, kv::KeyRange::Between(TileGroupBegin(group), TileGroupEnd(group)), options));
  int64_t read = 0;
  std::string key;
  std::string end_key;
  // After a run's scan the iterator rests on the first key >= `floor` (or past the range). When
  // that is also the first key >= the next run's start, as it is wherever no tile lies between
  // the runs, the next run needs no Seek; when a few tiles lie between, it steps over them.
  // Within one entity only: the family's iterators are in prefix mode (tile_family.h), in key
  // order within an entity, so each entity starts with a Seek.
  std::string floor;
  bool resting = false;
  for (size_t e = 0; e < entities.size(); ++e) {
    const std::string prefix = EntityKeyPrefix(group, entities[e]);
    resting = false;
    for (const TileRun& run : runs) {
      key = prefix;
      AppendTileSuffix(&key, run.level, run.first);
      end_key = prefix;
      AppendTileSuffix(&end_key, run.level, run.end);
      if (!resting || floor > key) {
        it->Seek(key);
      } else {
        // A few tiles between the runs (at most kMaxSteps, so a lookup's cost stays bounded
        // whatever lies between) cost less to step over than a Seek, which searches the memtable
        // and every file that may hold the entity.
        int steps = 0;
        while (it->Valid() && it->key() < key && steps < kMaxSteps) {
          it->Next();
          ++steps;
          ++read;
        }
        if (it->Valid() && it->key() < key) it->Seek(key);
      }
      for (; it->Valid(); it->Next()) {
        ++read;
        const absl::string_view found = it->key();
        if (found >= end_key) break;
        // Between two keys of the run, so it has the run's prefix and level.
        kv::KeyReader suffix(found.substr(prefix.size() + 1));
        absl::StatusOr<int64_t> index = suffix.ReadInt64();
        if (!index.ok() || *index < run.first || *index >= run.end) {
          return absl::DataLossError(
              absl::StrCat("malformed tile key in aggregation group '", group, "'"));
        }
        RETURN_IF_ERROR(on_tile(e, run.tile + (*index - run.first), it->value()));
      }
      RETURN_IF_ERROR(it->status());
      floor.swap(end_key);
      resting = true;
    }
  }
  tiles_read_.fetch_add(read, std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::Status TileReader::ReadPoints(const std::string& group,
                                    absl::Span<const std::string> entities,
                                    absl::Span<const TileRef> tiles, bool memory_only,
                                    const OnTile& on_tile) const {
  std::vector<std::string> keys;
  keys.reserve(entities.size() * tiles.size());
  for (const std::string& entity : entities) {
    const std::string prefix = EntityKeyPrefix(group, entity);
    for (const TileRef& ref : tiles) {
      std::string& key = keys.emplace_back(prefix);
      AppendTileSuffix(&key, ref.level, ref.index);
    }
  }
  kv::ReadOptions read;
  read.memory_only = memory_only;
  ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> found,
                   options_.store->MultiGet(tiles_, keys, read));
  tiles_read_.fetch_add(static_cast<int64_t>(keys.size()), std::memory_order_relaxed);
  for (size_t i = 0; i < found.size(); ++i) {
    if (!found[i].has_value()) continue;
    RETURN_IF_ERROR(on_tile(i / tiles.size(), i % tiles.size(), *found[i]));
  }
  return absl::OkStatus();
}

TileCacheShape TileReader::ShapeOf(const AggregationPlan& plan) {
  TileCacheShape shape;
  shape.tile_micros = plan.pyramid().tile_micros();
  shape.fanout = plan.pyramid().fanout();
  shape.levels = plan.pyramid().levels();
  shape.slots = static_cast<int>(plan.slot_fields().size());
  for (const PlannedAggregation& a : plan.aggregations()) {
    shape.window_tiles.insert(shape.window_tiles.end(), a.window_tiles.begin(),
                              a.window_tiles.end());
  }
  std::sort(shape.window_tiles.begin(), shape.window_tiles.end());
  shape.window_tiles.erase(std::unique(shape.window_tiles.begin(), shape.window_tiles.end()),
                           shape.window_tiles.end());
  return shape;
}

std::shared_ptr<const TileReader::CoverUnion> TileReader::UnionOf(const AggregationPlan& plan,
                                                                  TileCacheShape shape,
                                                                  int64_t base) const {
  {
    absl::MutexLock lock(&unions_mu_);
    for (const std::shared_ptr<const CoverUnion>& u : unions_) {
      if (u->base == base && *u->shape == shape) return u;
    }
  }
  // Every window of the plan, not only those asked: an entry serves any lookup of the group.
  auto u = std::make_shared<CoverUnion>();
  for (int64_t b = base; b <= base + kCacheHorizonTiles; ++b) {
    for (int64_t k : shape.window_tiles) plan.pyramid().Cover(b - k, b + 1, &u->tiles);
  }
  std::sort(u->tiles.begin(), u->tiles.end(), KeyOrder);
  u->tiles.erase(std::unique(u->tiles.begin(), u->tiles.end()), u->tiles.end());
  u->runs = RunsOf(u->tiles);
  u->base = base;
  u->shape = std::make_shared<const TileCacheShape>(std::move(shape));
  absl::MutexLock lock(&unions_mu_);
  auto same = std::find_if(unions_.begin(), unions_.end(),
                           [&](const auto& other) { return *other->shape == *u->shape; });
  if (same == unions_.end()) {
    unions_.push_back(u);
  } else {
    *same = u;
  }
  return u;
}

absl::Status TileReader::ReadCached(const std::string& group, const AggregationPlan& plan,
                                    absl::Span<const std::string> entities, int64_t as_of_micros,
                                    const CoverTiles& cover, bool memory_only,
                                    std::vector<TileState>* windows) const {
  TileCache& cache = *options_.cache;
  TileCacheShape shape = ShapeOf(plan);
  const int64_t base = plan.pyramid().BaseIndex(as_of_micros);
  std::vector<std::shared_ptr<const TileCacheEntry>> entries(entities.size());
  std::vector<std::string> missing_keys;
  std::vector<std::string> missing;
  std::vector<size_t> missing_at;
  std::vector<TileCache::Ticket> tickets;
  std::string key = GroupKeyPrefix(group);
  const size_t prefix = key.size();
  for (size_t e = 0; e < entities.size(); ++e) {
    key.resize(prefix);
    AppendEntity(&key, entities[e]);
    TileCache::Ticket ticket;
    std::shared_ptr<const TileCacheEntry> entry = cache.Find(key, &ticket);
    if (entry != nullptr && entry->Serves(shape, base)) {
      cache.CountHit();
      entries[e] = std::move(entry);
      continue;
    }
    cache.CountMiss();
    missing_keys.push_back(key);
    missing.push_back(entities[e]);
    missing_at.push_back(e);
    tickets.push_back(ticket);
  }
  if (!missing.empty()) {
    // After the tickets: a write that commits from here on either is in what Load reads or
    // makes Insert refuse it.
    const std::shared_ptr<const CoverUnion> held = UnionOf(plan, std::move(shape), base);
    std::vector<std::shared_ptr<TileCacheEntry>> loaded;
    RETURN_IF_ERROR(Load(group, plan, *held, missing, memory_only, &loaded));
    if (options_.before_cache_insert) options_.before_cache_insert();
    for (size_t m = 0; m < missing.size(); ++m) {
      // Kept for a while: no spare capacity.
      loaded[m]->tiles.shrink_to_fit();
      loaded[m]->ends.shrink_to_fit();
      loaded[m]->states.shrink_to_fit();
      loaded[m]->first_base = base;
      loaded[m]->last_base = base + kCacheHorizonTiles;
      cache.Insert(missing_keys[m], loaded[m], tickets[m]);
      entries[missing_at[m]] = std::move(loaded[m]);
    }
  }

  // The tiles of the covers that the entry holds, merged in key order as an uncached read
  // merges them, so the values are the same to the bit.
  const size_t lengths = cover.lengths.size();
  TileState tile(plan.slot_fields());
  for (size_t e = 0; e < entities.size(); ++e) {
    const TileCacheEntry& entry = *entries[e];
    size_t held = 0;
    for (size_t i = 0; i < cover.tiles.size() && held < entry.tiles.size(); ++i) {
      while (held < entry.tiles.size() && KeyOrder(entry.tiles[held], cover.tiles[i])) ++held;
      if (held == entry.tiles.size() || !(entry.tiles[held] == cover.tiles[i])) continue;
      tile.Reset();
      RETURN_IF_ERROR(tile.MergeEncoded(entry.State(held)));
      for (size_t w = 0; w < lengths; ++w) {
        if (cover.Names(i, w)) (*windows)[e * lengths + w].Merge(tile);
      }
    }
  }
  return absl::OkStatus();
}

absl::Status TileReader::Load(const std::string& group, const AggregationPlan& plan,
                              const CoverUnion& cover, absl::Span<const std::string> entities,
                              bool memory_only,
                              std::vector<std::shared_ptr<TileCacheEntry>>* loaded) const {
  auto start = [&] {
    loaded->clear();
    for (size_t e = 0; e < entities.size(); ++e) {
      loaded->push_back(std::make_shared<TileCacheEntry>());
      loaded->back()->shape = cover.shape;
    }
  };
  start();
  // Checked as an uncached read checks them, so that a malformed tile fails the lookup the same
  // way, and kept as read.
  TileState tile(plan.slot_fields());
  auto add = [&](size_t e, size_t i, absl::string_view value) -> absl::Status {
    tile.Reset();
    RETURN_IF_ERROR(tile.MergeEncoded(value));
    TileCacheEntry& entry = *(*loaded)[e];
    entry.tiles.push_back(cover.tiles[i]);
    entry.states.append(value.data(), value.size());
    entry.ends.push_back(static_cast<uint32_t>(entry.states.size()));
    return absl::OkStatus();
  };
  absl::Status read = ReadRuns(group, entities, cover.runs, memory_only, add);
  if (memory_only && !read.ok() && !kv::IsNotInMemory(read)) {
    start();
    read = ReadPoints(group, entities, cover.tiles, memory_only, add);
  }
  return read;
}

}  // namespace fabrique::features
