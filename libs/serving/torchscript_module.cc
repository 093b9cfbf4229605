#include "libs/serving/torchscript_module.h"

#include <ATen/Parallel.h>
#include <torch/csrc/jit/runtime/jit_exception.h>

#include <new>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "libs/core/status_macros.h"

namespace fabrique::serving {
namespace {

constexpr size_t kMaxMessage = 1000;

// What failed and where, from a message of the TorchScript interpreter: it rethrows an operator's
// error (or the module's own raise) as its traceback, the module's code marked "<--- HERE", then
// the error ("RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x3 and 2x1)"). The code
// is left out: it runs to pages, and its words would mislead Classify below.
std::string Summary(absl::string_view message) {
  constexpr absl::string_view kMarker = "<--- HERE";
  const size_t marker = message.rfind(kMarker);
  std::string summary(message);
  if (marker != absl::string_view::npos) {
    // After the marked line: more lines of code (indented), then the error.
    absl::string_view rest = message.substr(marker);
    while (!rest.empty() && (rest[0] == ' ' || rest[0] == '\n' || rest[0] == '<')) {
      const size_t next = rest.find('\n');
      rest = next == absl::string_view::npos ? absl::string_view() : rest.substr(next + 1);
    }
    summary = std::string(absl::StripAsciiWhitespace(rest.empty() ? message : rest));
    absl::StrReplaceAll({{"builtins.", ""}}, &summary);
    const size_t file = message.rfind("File \"", marker);
    if (file != absl::string_view::npos) {
      const absl::string_view where = message.substr(file, message.find('\n', file) - file);
      absl::StrAppend(&summary, " (", where, ")");
    }
  }
  if (summary.size() > kMaxMessage)
    summary = absl::StrCat(summary.substr(0, kMaxMessage), " [...]");
  return summary;
}

// Whether an operator's error is about the values it was given: the interpreter rethrows
// c10::Errors as std::runtime_errors, so the kind is read from the words operators use for bad
// shapes and indices, and from Python's exception classes a module raises.
bool AboutTheInputs(absl::string_view summary) {
  const std::string lower = absl::AsciiStrToLower(summary);
  for (absl::string_view word :
       {"shape", "size", "dimension", "index", "out of bounds", "out of range", "valueerror",
        "indexerror", "typeerror", "assertionerror"}) {
    if (absl::StrContains(lower, word)) return true;
  }
  return false;
}

absl::Status Classify(absl::string_view message) {
  const std::string summary = Summary(message);
  if (absl::StrContains(summary, "out of memory")) {
    return absl::ResourceExhaustedError(absl::StrCat("the device ran out of memory: ", summary));
  }
  if (AboutTheInputs(summary)) {
    return absl::InvalidArgumentError(absl::StrCat("the module refused the inputs: ", summary));
  }
  return absl::InternalError(absl::StrCat("the module failed: ", summary));
}

}  // namespace

absl::Status ForwardFailure(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const torch::jit::JITException& raised) {
    // The module's own code raised, or one of its asserts failed: it refuses these values.
    return absl::InvalidArgumentError(
        absl::StrCat("the module refused the inputs: ", Summary(raised.what())));
  } catch (const c10::OutOfMemoryError& oom) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the device ran out of memory: ", Summary(oom.what_without_backtrace())));
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
  // LibTorch's intra-op threads (OpenMP here) are a per-thread setting: a thread that never set
  // it uses every core, and so does OpenBLAS under it, whose idle workers then spin in
  // sched_yield. Each batcher instance calling with all cores at once took twice the CPU per
  // request (tools/bench/inference_bench, perf). So the calling thread is set once.
  thread_local int thread_intra_op_threads = 0;
  if (intra_op_threads_ > 0 && thread_intra_op_threads != intra_op_threads_) {
    at::set_num_threads(intra_op_threads_);
    thread_intra_op_threads = intra_op_threads_;
  }
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
