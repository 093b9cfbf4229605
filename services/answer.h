#ifndef FABRIQUE_SERVICES_ANSWER_H_
#define FABRIQUE_SERVICES_ANSWER_H_

// How an adapter turns a domain result into its reply: the value copied into the response, or
// the error mapped to its gRPC code (libs/core/grpc_status.h, the one mapping).
//
//   return Answer(store_->GetModel(request->name()), response);

#include <utility>

#include "absl/status/statusor.h"
#include "grpcpp/support/status.h"
#include "libs/core/grpc_status.h"

namespace fabrique::services {

template <typename T>
grpc::Status Answer(absl::StatusOr<T> value, T* out) {
  if (!value.ok()) return core::ToGrpcStatus(value.status());
  *out = *std::move(value);
  return grpc::Status::OK;
}

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_ANSWER_H_
