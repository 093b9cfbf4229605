#ifndef FABRIQUE_LIBS_CORE_STATUS_MACROS_H_
#define FABRIQUE_LIBS_CORE_STATUS_MACROS_H_

// Early-return helpers for absl::Status and absl::StatusOr. Debian's Abseil (20220623) ships
// neither, so Fabrique keeps its own, with the same names and meaning as Abseil's internal ones.
//
//   RETURN_IF_ERROR(db->Put(key, value));
//   ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(options));
//   RETURN_IF_ERROR(WithContext(Flush(), "flushing the memtable"));

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#define FABRIQUE_STATUS_CONCAT_INNER_(a, b) a##b
#define FABRIQUE_STATUS_CONCAT_(a, b) FABRIQUE_STATUS_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::Status or anything with .status()) once; returns it if not OK.
#define RETURN_IF_ERROR(expr)                                                 \
  do {                                                                        \
    const ::absl::Status _fabrique_status = ::fabrique::core::ToStatus(expr); \
    if (!_fabrique_status.ok()) return _fabrique_status;                      \
  } while (0)

// Evaluates `rexpr` (an absl::StatusOr<T>); returns its status if not OK, otherwise moves the
// value into `lhs`, which may be a declaration (`auto x`) or an existing variable.
#define ASSIGN_OR_RETURN(lhs, rexpr)                                                           \
  FABRIQUE_ASSIGN_OR_RETURN_IMPL_(FABRIQUE_STATUS_CONCAT_(_fabrique_statusor_, __LINE__), lhs, \
                                  rexpr)

#define FABRIQUE_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                    \
  if (!statusor.ok()) return std::move(statusor).status();    \
  lhs = std::move(statusor).value()

namespace fabrique::core {

inline const absl::Status& ToStatus(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& ToStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

// Returns `status` with `context` and ": " put before its message; OK stays OK. Used to say which
// step failed without losing the code: WithContext(s, "opening /data/features").
absl::Status WithContext(const absl::Status& status, absl::string_view context);

}  // namespace fabrique::core

#endif  // FABRIQUE_LIBS_CORE_STATUS_MACROS_H_
