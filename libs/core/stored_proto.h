#ifndef FABRIQUE_LIBS_CORE_STORED_PROTO_H_
#define FABRIQUE_LIBS_CORE_STORED_PROTO_H_

// Reading a protobuf record back from storage: a record that does not parse is DATA_LOSS naming
// what it was, never a silently empty message. Header-only; the caller links its messages.

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace fabrique::core {

template <typename Message>
absl::StatusOr<Message> ParseStored(absl::string_view bytes, absl::string_view what) {
  Message message;
  if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(absl::StrCat("a stored ", what, " is corrupt"));
  }
  return message;
}

}  // namespace fabrique::core

#endif  // FABRIQUE_LIBS_CORE_STORED_PROTO_H_
