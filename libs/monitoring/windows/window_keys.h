#ifndef FABRIQUE_LIBS_MONITORING_WINDOWS_WINDOW_KEYS_H_
#define FABRIQUE_LIBS_MONITORING_WINDOWS_WINDOW_KEYS_H_

// The keys and values of the live windows' families in the intake database
// (intake_families.h), with kv's order-preserving codec:
//
//   windows         (model, version, window start)  -> end | WindowSummary bytes
//                   a version's windows over a time range: one bounded scan
//   window_index    (window start, model, version)  -> end | last prediction time
//                   the versions active over a time range, without reading a summary
//   window_journal  (sequence)                      -> arrival | prediction keys
//                   the records of each intake write not yet in `windows`
//
// Every value starts with the intake's time header (intake_values.h), so the intake's
// retention filter drops windows once their end is older than the retention. Times are
// microseconds since the Unix epoch. These encodings are on disk: never change one.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "libs/kv/key_range.h"

namespace fabrique::monitoring {

struct WindowId {
  std::string model;
  int64_t version = 0;
  int64_t start_micros = 0;

  friend bool operator<(const WindowId& a, const WindowId& b) {
    if (a.model != b.model) return a.model < b.model;
    if (a.version != b.version) return a.version < b.version;
    return a.start_micros < b.start_micros;
  }
  friend bool operator==(const WindowId& a, const WindowId& b) {
    return a.model == b.model && a.version == b.version && a.start_micros == b.start_micros;
  }
};

std::string WindowKey(const WindowId& id);
// Windows of `model` `version` starting in [from_micros, to_micros).
kv::KeyRange WindowRange(absl::string_view model, int64_t version, int64_t from_micros,
                         int64_t to_micros);
// DATA_LOSS when `key` is not a window key.
absl::StatusOr<WindowId> DecodeWindowKey(absl::string_view key);

std::string WindowIndexKey(const WindowId& id);
// Index entries of windows starting in [from_micros, to_micros).
kv::KeyRange WindowIndexRange(int64_t from_micros, int64_t to_micros);
absl::StatusOr<WindowId> DecodeWindowIndexKey(absl::string_view key);

std::string JournalKey(uint64_t sequence);
absl::StatusOr<uint64_t> DecodeJournalKey(absl::string_view key);
// The body of a journal entry: the keys of the records it stands for, each but the first as
// what it does not share with the one before it. Decode also reads the earlier form (each key
// whole, in kv's string encoding), which a journal written by an earlier build holds.
std::string EncodeJournalKeys(absl::Span<const absl::string_view> keys);
absl::StatusOr<std::vector<std::string>> DecodeJournalKeys(absl::string_view body);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_WINDOWS_WINDOW_KEYS_H_
