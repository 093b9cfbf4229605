#include "libs/serving/torchscript_module.h"

#include <torch/csrc/jit/runtime/jit_exception.h>

#include <algorithm>
#include <cctype>
#include <new>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "libs/core/status_macros.h"

namespace fabrique::serving {
namespace {

// Messages that end in the interpreter's TorchScript traceback can run to pages: the head (what
// failed, where) is what a caller needs.
constexpr size_t kMaxMessage = 2000;

std::string Shorten(absl::string_view message) {
  if (message.size() <= kMaxMessage) return std::string(message);
  return absl::StrCat(message.substr(0, kMaxMessage), " [...]");
}

// The interpreter rethrows an operator's c10::Error as a std::runtime_error holding its message,
// so what the failure was about is read from the words operators use for bad input shapes and
// indices.
bool AboutTheInputs(absl::string_view message) {
  std::string lower(message);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (absl::string_view word : {"shape", "size", "dimension", "index", "out of bounds",
                                 "out of range", "valueerror", "indexerror", "typeerror"}) {
    if (absl::StrContains(lower, word)) return true;
  }
  return false;
}

absl::Status Classify(absl::string_view message) {
  if (absl::StrContains(message, "out of memory")) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the device ran out of memory: ", Shorten(message)));
  }
  if (AboutTheInputs(message)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the module refused the inputs: ", Shorten(message)));
  }
  return absl::InternalError(absl::StrCat("the module failed: ", Shorten(message)));
}

}  // namespace

absl::Status ForwardFailure(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const torch::jit::JITException& raised) {
    // The module's own code raised, or one of its asserts failed: it refuses these values.
    return absl::InvalidArgumentError(
        absl::StrCat("the module refused the inputs: ", Shorten(raised.what())));
  } catch (const c10::OutOfMemoryError& oom) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the device ran out of memory: ", Shorten(oom.what_without_backtrace())));
  } catch (const c10::Error& failure) {
    return Classify(failure.what_without_backtrace());
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("the module ran out of memory");
  } catch (const std::exception& failure) {
    return Classify(failure.what());
  } catch (...) {
    return absl::InternalError("the module failed with an exception that is not std::exception");
  }
}

absl::StatusOr<TensorBatch> TorchScriptModule::Forward(const TensorBatch& inputs) const {
  try {
    c10::InferenceMode inference;
    ASSIGN_OR_RETURN(std::vector<c10::IValue> args, convention_.Arguments(inputs, device_));
    const c10::IValue result = module_.forward(std::move(args));
    return convention_.Outputs(result, inputs.rows);
  } catch (...) {
    return ForwardFailure(std::current_exception());
  }
}

}  // namespace fabrique::serving
