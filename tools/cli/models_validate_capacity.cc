// `fabrique models validate-capacity MODEL VERSION --qps Q --batch B --duration D`: asks an
// inference server to load a version beside production, offer it a paced load, saturate it, and
// record the latency and throughput it measured in the registry as a "capacity" evaluation, which
// promotion gates and standards then read like any metric.

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "libs/client/typed_clients.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/connection.h"
#include "tools/cli/governance_commands.h"
#include "tools/cli/registry_args.h"
#include "tools/cli/rpc_call.h"

namespace fabrique::cli {
namespace {

constexpr absl::Duration kMinDuration = absl::Seconds(1);
constexpr absl::Duration kMaxDuration = absl::Minutes(10);
// Time the call may take beyond the load itself: loading the version (a download and a warm-up),
// the saturation phase, recording.
constexpr absl::Duration kCallAllowance = absl::Minutes(10);

absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

void PrintProgress(const v1::CapacityProgress& progress) {
  if (progress.phase() == "load" || progress.phase() == "saturation") {
    std::cerr << absl::StrFormat("%-10s %6.1fs  sent %-8d answered %-8d failed %d\n",
                                 progress.phase(),
                                 absl::ToDoubleSeconds(FromProto(progress.elapsed())),
                                 progress.sent(), progress.answered(), progress.failed());
  } else if (progress.phase() != "done") {
    std::cerr << progress.phase() << "...\n";
  }
}

void PrintReport(const v1::CapacityReport& report, bool dry_run) {
  std::cout << absl::StrFormat("%s:%d on %s, %d rows per request, %s\n", report.model(),
                               report.version(), report.device(), report.batch(),
                               absl::FormatDuration(FromProto(report.duration())));
  std::cout << absl::StrFormat("  %-16s %10.1f\n", "offered qps", report.offered_qps());
  std::cout << absl::StrFormat("  %-16s %10.1f\n", "achieved qps", report.achieved_qps());
  std::cout << absl::StrFormat("  %-16s %10.3f\n", "p50 ms", report.p50_ms());
  std::cout << absl::StrFormat("  %-16s %10.3f\n", "p99 ms", report.p99_ms());
  std::cout << absl::StrFormat("  %-16s %10.1f\n", "max qps", report.max_qps());
  std::cout << absl::StrFormat("  %-16s %10d\n", "failed", report.failed());
  if (dry_run) {
    std::cout << "not recorded (--dry_run)\n";
    return;
  }
  std::cout << "recorded as a capacity evaluation of " << report.model() << ":" << report.version()
            << "\n";
  PrintEvaluations(report.recorded(), std::cout);
}

}  // namespace

int RunModelsValidateCapacity(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  double qps = 0;
  int batch = 1;
  absl::Duration duration = absl::Seconds(30);
  bool dry_run = false;
  bool json = false;
  core::FlagSet flags(
      "fabrique models validate-capacity",
      "Measures what version VERSION of MODEL can serve: an inference server loads it beside "
      "the versions it serves (it never answers their traffic), offers it --qps requests per "
      "second of --batch synthetic rows for --duration (an open loop, as independent callers "
      "would; latency runs from submission to answer, queueing included), then keeps its "
      "batcher full for min(--duration, 5s) to find the most requests per second it answers. "
      "The server then appends serving_p50_ms, serving_p99_ms and serving_max_qps to the "
      "version in the registry as a 'capacity' evaluation (with qps, batch, duration, device, "
      "max_batch_size, instances and who asked), so a promotion policy can gate on them, e.g. "
      "serving_p99_ms <= 20, and a standard can require a capacity evaluation. Progress goes "
      "to stderr once a second, the figures to stdout. One validation runs at a time per "
      "server, and MODEL must be one the server serves (VERSION may be any of its "
      "versions). Needs models.evaluate in the model's squad. The call's deadline is the "
      "larger of --timeout and twice --duration plus 10 minutes. Exit codes: 0 measured (and "
      "recorded), 1 failure (the gRPC code and the server's message on stderr), 2 bad usage.");
  flags.set_usage_args("MODEL VERSION --qps Q [--batch B] [--duration D] [flags]");
  AddConnectionFlags(&flags, &connection, "inference", "the inference server (fabrique-inference)");
  flags.Add("qps", &qps, "Requests per second offered during the load, > 0 (required)");
  flags.Add("batch", &batch, "Rows per request, from 1 to the server's --max_batch_size");
  flags.Add("duration", &duration, "Length of the paced load, from 1s to 10m (e.g. 30s, 2m)");
  flags.Add("dry_run", &dry_run, "Measure and print, but record nothing in the registry");
  flags.Add("json", &json, "Print the report as JSON");
  flags.set_epilog(
      "Example:\n"
      "  fabrique models validate-capacity churn 4 --qps 200 --batch 8 --duration 1m\n"
      "  # gate.json: {\"metricGates\": [{\"metric\": \"serving_p99_ms\",\n"
      "  #   \"op\": \"COMPARISON_OP_LESS_OR_EQUAL\", \"value\": 20}]}\n"
      "  fabrique models policy churn production --set gate.json");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 2, 2, "MODEL VERSION", &parsed)) return *code;
  absl::StatusOr<int64_t> number = ParseVersionNumber(parsed.positional[1]);
  if (!number.ok()) return BadUsage(flags, number.status().message());
  if (!(qps > 0)) return BadUsage(flags, "--qps is required: requests per second, > 0");
  if (batch < 1) return BadUsage(flags, "--batch must be 1 or more rows per request");
  if (duration < kMinDuration || duration > kMaxDuration) {
    return BadUsage(flags, "--duration must be from 1s to 10m");
  }
  v1::ValidateCapacityRequest request;
  request.mutable_version()->set_model(parsed.positional[0]);
  request.mutable_version()->set_version(*number);
  request.set_qps(qps);
  request.set_batch(batch);
  request.mutable_duration()->set_seconds(absl::ToInt64Seconds(duration));
  request.mutable_duration()->set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(duration % absl::Seconds(1))));
  request.set_dry_run(dry_run);

  absl::StatusOr<client::EntityInferenceClient> inference =
      ConnectClient<client::EntityInferenceClient>(connection, "inference");
  if (!inference.ok()) return Fail(flags.program(), inference.status());
  // The call lasts as long as the load and more: its deadline is the load's plus the allowance.
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context =
      inference->NewContext(std::max(connection.timeout, 2 * duration + kCallAllowance));
  if (!context.ok()) return Fail(flags.program(), context.status());
  const std::string what = absl::StrCat("ValidateCapacity ", parsed.positional[0], ":", *number);
  auto reader = inference->stub()->ValidateCapacity(context->get(), request);
  v1::CapacityProgress progress;
  v1::CapacityReport report;
  bool reported = false;
  while (reader->Read(&progress)) {
    PrintProgress(progress);
    if (progress.has_report()) {
      report = progress.report();
      reported = true;
    }
  }
  const absl::Status finished = inference->Error(reader->Finish(), what);
  if (!finished.ok()) return Fail(flags.program(), finished);
  if (!reported) {
    return Fail(flags.program(),
                absl::InternalError(absl::StrCat(what, " ended without a report from the server")));
  }
  if (json) {
    std::string text;
    google::protobuf::util::JsonPrintOptions options;
    options.add_whitespace = true;
    options.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(report, &text, options);
    std::cout << text;
    return 0;
  }
  PrintReport(report, dry_run);
  return 0;
}

}  // namespace fabrique::cli
