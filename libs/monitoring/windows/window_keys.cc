#include "libs/monitoring/windows/window_keys.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/core/varint.h"
#include "libs/kv/key_codec.h"

namespace fabrique::monitoring {
namespace {

absl::Status NotA(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("a stored ", what, " key is corrupt"));
}

// Leads a journal entry of prefix-compressed keys. An entry of escaped whole keys cannot start
// with it: in kv's string encoding 0x00 is followed by 0x01 or 0xFF only.
constexpr absl::string_view kCompactJournal("\x00\x02", 2);

}  // namespace

std::string WindowKey(const WindowId& id) {
  return kv::KeyBuilder().AddString(id.model).AddInt64(id.version).AddInt64(id.start_micros).key();
}

kv::KeyRange WindowRange(absl::string_view model, int64_t version, int64_t from_micros,
                         int64_t to_micros) {
  return kv::KeyRange::Between(WindowKey({std::string(model), version, from_micros}),
                               WindowKey({std::string(model), version, to_micros}));
}

absl::StatusOr<WindowId> DecodeWindowKey(absl::string_view key) {
  kv::KeyReader reader(key);
  WindowId id;
  absl::StatusOr<std::string> model = reader.ReadString();
  if (!model.ok()) return NotA("window");
  absl::StatusOr<int64_t> version = reader.ReadInt64();
  absl::StatusOr<int64_t> start = version.ok() ? reader.ReadInt64() : version;
  if (!start.ok() || !reader.done()) return NotA("window");
  return WindowId{*std::move(model), *version, *start};
}

std::string WindowIndexKey(const WindowId& id) {
  return kv::KeyBuilder().AddInt64(id.start_micros).AddString(id.model).AddInt64(id.version).key();
}

kv::KeyRange WindowIndexRange(int64_t from_micros, int64_t to_micros) {
  return kv::KeyRange::Between(kv::KeyBuilder().AddInt64(from_micros).key(),
                               kv::KeyBuilder().AddInt64(to_micros).key());
}

absl::StatusOr<WindowId> DecodeWindowIndexKey(absl::string_view key) {
  kv::KeyReader reader(key);
  absl::StatusOr<int64_t> start = reader.ReadInt64();
  if (!start.ok()) return NotA("window index");
  absl::StatusOr<std::string> model = reader.ReadString();
  if (!model.ok()) return NotA("window index");
  absl::StatusOr<int64_t> version = reader.ReadInt64();
  if (!version.ok() || !reader.done()) return NotA("window index");
  return WindowId{*std::move(model), *version, *start};
}

std::string JournalKey(uint64_t sequence) { return kv::KeyBuilder().AddUint64(sequence).key(); }

absl::StatusOr<uint64_t> DecodeJournalKey(absl::string_view key) {
  kv::KeyReader reader(key);
  absl::StatusOr<uint64_t> sequence = reader.ReadUint64();
  if (!sequence.ok() || !reader.done()) return NotA("window journal");
  return *sequence;
}

std::string EncodeJournalKeys(absl::Span<const absl::string_view> keys) {
  // Each key after the first shares most of its bytes with the one before it (model, version,
  // most of the time): only the rest is written, behind the length shared and its own. A third
  // of the bytes of escaped whole keys, and the journal is written once per batch and flushed.
  std::string body(kCompactJournal.data(), kCompactJournal.size());
  absl::string_view previous;
  for (const absl::string_view key : keys) {
    size_t shared = 0;
    const size_t most = std::min(previous.size(), key.size());
    while (shared < most && previous[shared] == key[shared]) ++shared;
    core::AppendVarint(&body, shared);
    core::AppendVarint(&body, key.size() - shared);
    body.append(key.data() + shared, key.size() - shared);
    previous = key;
  }
  return body;
}

absl::StatusOr<std::vector<std::string>> DecodeJournalKeys(absl::string_view body) {
  std::vector<std::string> keys;
  if (absl::StartsWith(body, kCompactJournal)) {
    body.remove_prefix(kCompactJournal.size());
    std::string previous;
    size_t pos = 0;
    while (pos < body.size()) {
      uint64_t shared = 0;
      uint64_t rest = 0;
      if (!core::ReadVarint(body, &pos, &shared) || !core::ReadVarint(body, &pos, &rest) ||
          shared > previous.size() || rest > body.size() - pos) {
        return absl::DataLossError("a window journal entry is corrupt");
      }
      previous.resize(shared);
      previous.append(body.data() + pos, rest);
      pos += rest;
      keys.push_back(previous);
    }
    return keys;
  }
  // Entries written before the compact form: each key escaped whole.
  kv::KeyReader reader(body);
  while (!reader.done()) {
    absl::StatusOr<std::string> key = reader.ReadString();
    if (!key.ok()) return absl::DataLossError("a window journal entry is corrupt");
    keys.push_back(*std::move(key));
  }
  return keys;
}

}  // namespace fabrique::monitoring
