// `fabrique traffic MODEL --entities FILE`: plays the entities of a CSV file against a served
// model at a steady rate, as a squad's application would, and sends the monitor the label each
// row carries as the outcome of its prediction, as the business would once it learns it. It
// counts every prediction by the version that answered (the canary apart), and every failed one,
// so a change of model under traffic (a retrain, a canary, a promotion) shows whether any request
// failed: the command exits 1 if one did.

#include <atomic>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "libs/client/typed_clients.h"
#include "libs/core/ids.h"
#include "libs/server/signals.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/connection.h"
#include "tools/cli/csv_reader.h"
#include "tools/cli/rpc_call.h"

namespace fabrique::cli {
namespace {

struct Row {
  std::string key;
  std::string label;  // "" = no outcome to send.
};

struct TrafficFlags {
  ConnectionFlags connection;
  std::string monitor_target;
  std::string entities;
  std::string entity_name;
  std::string key_column;
  std::string label_column;
  double rate = 20;
  int batch = 10;
  absl::Duration duration = absl::Seconds(60);
  std::string stop_file;
  absl::Duration report_every = absl::Seconds(5);
};

// The rows of the CSV file: the key column (the first column when unnamed) and the label column.
absl::StatusOr<std::vector<Row>> ReadRows(const TrafficFlags& flags) {
  std::ifstream in(flags.entities);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read --entities ", flags.entities));
  CsvReader reader(&in);
  std::vector<std::string> fields;
  absl::StatusOr<bool> more = reader.Next(&fields);
  if (!more.ok()) return more.status();
  if (!*more) return absl::InvalidArgumentError(absl::StrCat(flags.entities, " is empty"));
  int key = flags.key_column.empty() ? 0 : -1;
  int label = -1;
  for (int i = 0; i < static_cast<int>(fields.size()); ++i) {
    if (fields[i] == flags.key_column) key = i;
    if (!flags.label_column.empty() && fields[i] == flags.label_column) label = i;
  }
  if (key < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(flags.entities, " has no column '", flags.key_column, "' (--key_column)"));
  }
  if (!flags.label_column.empty() && label < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(flags.entities, " has no column '", flags.label_column, "' (--label_column)"));
  }
  std::vector<Row> rows;
  while (true) {
    more = reader.Next(&fields);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (key >= static_cast<int>(fields.size())) continue;
    Row row{fields[key],
            label >= 0 && label < static_cast<int>(fields.size()) ? fields[label] : ""};
    rows.push_back(std::move(row));
  }
  if (rows.empty()) return absl::InvalidArgumentError(absl::StrCat(flags.entities, " has no rows"));
  return rows;
}

// A label as the monitor takes it: an integer, else a number, else text.
v1::Value LabelValue(const std::string& text) {
  v1::Value value;
  int64_t integer = 0;
  double number = 0;
  if (absl::SimpleAtoi(text, &integer)) {
    value.set_int64_value(integer);
  } else if (absl::SimpleAtod(text, &number)) {
    value.set_double_value(number);
  } else {
    value.set_string_value(text);
  }
  return value;
}

// What was sent and what came back, by version ("v3", or "v4 canary").
struct Tally {
  int64_t requests = 0;
  int64_t predictions = 0;
  int64_t failed = 0;
  int64_t outcomes_sent = 0;
  int64_t outcomes_failed = 0;
  std::map<std::string, int64_t> by_version;
  std::string last_error;

  std::string Line(absl::Duration elapsed) const {
    std::vector<std::string> versions;
    for (const auto& [version, count] : by_version) {
      versions.push_back(absl::StrCat(version, "=", count));
    }
    return absl::StrFormat(
        "  %5.0fs  requests %lld  predictions %lld  failed %lld  outcomes %lld"
        "  by version: %s",
        absl::ToDoubleSeconds(elapsed), requests, predictions, failed, outcomes_sent,
        versions.empty() ? "-" : absl::StrJoin(versions, " "));
  }
};

// Sends one batch of outcomes; counts what the monitor refused as failed outcomes.
void SendOutcomes(client::MonitorClient& monitor, std::vector<v1::Outcome>* pending, Tally* tally) {
  if (pending->empty()) return;
  v1::LogOutcomesRequest request;
  request.set_batch_id(absl::StrCat("traffic-", core::IdGenerator::Default().Next()));
  for (v1::Outcome& outcome : *pending) *request.add_outcomes() = std::move(outcome);
  pending->clear();
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context = monitor.NewContext();
  if (!context.ok()) {
    tally->outcomes_failed += request.outcomes_size();
    return;
  }
  v1::LogOutcomesResponse response;
  auto writer = monitor.stub()->LogOutcomes(context->get(), &response);
  const bool written = writer->Write(request);
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  if (!written || !status.ok()) {
    tally->outcomes_failed += request.outcomes_size();
    tally->last_error = absl::StrCat("LogOutcomes: ", status.error_message());
    return;
  }
  tally->outcomes_sent += response.accepted();
  tally->outcomes_failed += response.rejected();
}

}  // namespace

int RunTraffic(const std::vector<std::string>& args) {
  TrafficFlags f;
  core::FlagSet flags(
      "fabrique traffic",
      "Plays the entities of a CSV file against a served model at a steady rate, and sends the "
      "monitor each row's label as the outcome of its prediction. Prints progress by version "
      "(canary apart) and exits 1 if any prediction failed, so a model changing under traffic "
      "shows whether a request was lost.\n\n"
      "  fabrique traffic fraud --entities customers.csv --key_column customer_id \\\n"
      "      --label_column fraud --rate 20 --batch 10 --duration 2m");
  flags.set_usage_args("[flags] MODEL");
  AddConnectionFlags(&flags, &f.connection, "inference",
                     "the inference server (fabrique-inference)");
  flags.Add("monitor_target", &f.monitor_target,
            "host:port of the monitor the outcomes go to; \"\" = found as --target's is");
  flags.Add("entities", &f.entities, "CSV file of the entities to score, with a header (required)");
  flags.Add("entity_name", &f.entity_name, "The entity the keys are of; \"\" = the model's one");
  flags.Add("key_column", &f.key_column, "Column of the entity keys; \"\" = the first column");
  flags.Add("label_column", &f.label_column,
            "Column of the labels sent as outcomes; \"\" = send no outcomes");
  flags.Add("rate", &f.rate, "Requests per second");
  flags.Add("batch", &f.batch, "Entities per request");
  flags.Add("duration", &f.duration, "How long to play; the file is replayed from its start");
  flags.Add("stop_file", &f.stop_file, "Stop early once this file exists");
  flags.Add("report_every", &f.report_every, "Progress line interval");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one MODEL", &parsed)) return *code;
  if (f.entities.empty()) return BadUsage(flags, "--entities is required: the CSV to play");
  if (f.rate <= 0) return BadUsage(flags, "--rate must be above 0");
  if (f.batch < 1) return BadUsage(flags, "--batch must be 1 or more");
  absl::StatusOr<std::vector<Row>> rows = ReadRows(f);
  if (!rows.ok()) return BadUsage(flags, rows.status().message());

  absl::StatusOr<client::EntityInferenceClient> inference =
      ConnectClient<client::EntityInferenceClient>(f.connection, "inference");
  if (!inference.ok()) return Fail(flags.program(), inference.status());
  std::optional<client::MonitorClient> monitor;
  if (!f.label_column.empty()) {
    ConnectionFlags monitor_flags = f.connection;
    monitor_flags.target = f.monitor_target;
    absl::StatusOr<client::MonitorClient> made =
        ConnectClient<client::MonitorClient>(monitor_flags, "monitor");
    if (!made.ok()) return Fail(flags.program(), made.status());
    monitor.emplace(*std::move(made));
  }

  const std::string model = parsed.positional[0];
  Tally tally;
  std::vector<v1::Outcome> outcomes;
  const absl::Time start = absl::Now();
  const absl::Duration interval = absl::Seconds(1.0 / f.rate);
  absl::Time next_send = start;
  absl::Time next_report = start + f.report_every;
  absl::Time next_outcomes = start + absl::Seconds(1);
  size_t cursor = 0;
  std::cout << "Playing " << rows->size() << " entities of " << f.entities << " against " << model
            << ": " << f.rate << " requests/s of " << f.batch << " for "
            << absl::FormatDuration(f.duration) << "\n";
  while (absl::Now() - start < f.duration) {
    if (!f.stop_file.empty() && std::ifstream(f.stop_file).good()) break;
    if (server::WaitForTerminationSignalFor(absl::ZeroDuration()) != 0) break;
    v1::PredictRequest request;
    request.mutable_model()->set_model(model);
    v1::EntityKeys* keys = request.add_entity_keys();
    keys->set_entity(f.entity_name);
    std::vector<const Row*> sent;
    for (int i = 0; i < f.batch; ++i) {
      const Row& row = (*rows)[cursor];
      cursor = (cursor + 1) % rows->size();
      keys->add_keys(row.key);
      sent.push_back(&row);
    }
    ++tally.requests;
    absl::StatusOr<v1::PredictResponse> response =
        inference->Call(&client::EntityInferenceClient::Stub::Predict, request, "Predict " + model);
    if (!response.ok()) {
      tally.failed += f.batch;
      tally.last_error = std::string(response.status().message());
    } else {
      for (const v1::EntityPrediction& p : response->predictions()) {
        ++tally.predictions;
        ++tally.by_version[absl::StrCat("v", p.served_by().version(), p.canary() ? " canary" : "")];
        if (!monitor.has_value() || p.row() >= static_cast<int64_t>(sent.size())) continue;
        const Row& row = *sent[p.row()];
        if (row.label.empty() || p.prediction_id().empty()) continue;
        v1::Outcome outcome;
        outcome.set_prediction_id(p.prediction_id());
        *outcome.mutable_label() = LabelValue(row.label);
        outcomes.push_back(std::move(outcome));
      }
    }
    const absl::Time now = absl::Now();
    if (monitor.has_value() && now >= next_outcomes) {
      SendOutcomes(*monitor, &outcomes, &tally);
      next_outcomes = now + absl::Seconds(1);
    }
    if (now >= next_report) {
      std::cout << tally.Line(now - start) << std::endl;
      next_report = now + f.report_every;
    }
    next_send += interval;
    if (next_send > now) absl::SleepFor(next_send - now);
  }
  if (monitor.has_value()) SendOutcomes(*monitor, &outcomes, &tally);
  std::cout << tally.Line(absl::Now() - start) << "\n";
  if (tally.failed > 0 || tally.outcomes_failed > 0) {
    std::cerr << flags.program() << ": " << tally.failed << " predictions and "
              << tally.outcomes_failed << " outcomes failed; last error: " << tally.last_error
              << "\n";
    return 1;
  }
  std::cout << "No prediction failed.\n";
  return 0;
}

}  // namespace fabrique::cli
