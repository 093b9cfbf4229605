#include "tools/bench/aggregate_bench_data.h"

#include <fstream>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tools/bench/bench_support.h"
#include "tools/bench/split_mix.h"

namespace fabrique::bench {
namespace {

constexpr int64_t kHour = int64_t{3600} * 1'000'000;
constexpr int64_t kDay = 24 * kHour;
constexpr int kLabelBatchRows = 10'000;

SplitMix EntityStream(const AggregateSizes& sizes, int64_t entity) {
  return SplitMix(sizes.seed * 0x100000001b3ULL ^ static_cast<uint64_t>(entity) << 1);
}

template <typename T>
void Put(std::string* out, T value) {
  out->append(reinterpret_cast<const char*>(&value), sizeof(T));
}

}  // namespace

std::string AggregateSizes::Describe() const {
  std::vector<std::string> windows;
  for (int64_t w : window_micros) windows.push_back(WindowName(w));
  return absl::StrFormat(
      "%d payments (%d customers x %d) x %d labels, count/sum/mean over %s, tile %d s, seed %d",
      entities * events, entities, events, labels, absl::StrJoin(windows, " and "),
      tile_micros / 1'000'000, seed);
}

std::vector<Payment> Payments(const AggregateSizes& sizes, int64_t entity, int64_t base) {
  SplitMix random = EntityStream(sizes, entity);
  std::vector<Payment> payments(sizes.events);
  int64_t time = base + random.Below(10 * kHour);
  for (Payment& p : payments) {
    const uint64_t r = random.Next();
    p.time = time;
    p.null = r % 100 == 0;
    p.amount = p.null ? 0 : static_cast<double>(1 + (r >> 8) % 100'000);
    time += 1 + random.Below(2 * kHour);
  }
  return payments;
}

std::string CustomerKey(int64_t entity) { return absl::StrFormat("cust%08d", entity); }

std::string WindowName(int64_t micros) {
  const int64_t seconds = micros / 1'000'000;
  for (const auto& [unit, length] :
       {std::pair<const char*, int64_t>{"d", 86400}, {"h", 3600}, {"m", 60}}) {
    if (seconds % length == 0) return absl::StrCat(seconds / length, unit);
  }
  return absl::StrCat(seconds, "s");
}

std::vector<v1::LabelEventBatch> MakeAggregateLabels(const AggregateSizes& sizes, int64_t base,
                                                     const std::string& file) {
  SplitMix random(sizes.seed ^ 0x6c6162656c73ULL);
  const int64_t absent = std::max<int64_t>(1, sizes.entities / 100);
  std::vector<v1::LabelEventBatch> batches;
  std::string raw;
  for (int64_t i = 0; i < sizes.labels; ++i) {
    if (i % kLabelBatchRows == 0) batches.emplace_back().add_entity_keys()->set_entity("customer");
    v1::LabelEventBatch& batch = batches.back();
    int64_t entity, time;
    if (random.Below(100) == 0) {  // A customer without payments.
      entity = sizes.entities + random.Below(absent);
      time = base + random.Below(sizes.events * 2 * kHour);
    } else {
      entity = random.Below(sizes.entities);
      const std::vector<Payment> payments = Payments(sizes, entity, base);
      const int64_t kind = random.Below(20);
      if (kind < 2) {
        time = payments[random.Below(sizes.events)].time;
      } else {
        const int64_t low = payments.front().time - kDay;
        time = low + random.Below(payments.back().time + kDay - low);
        if (kind == 2) time -= time % sizes.tile_micros;
      }
    }
    const int64_t label = random.Below(2);
    batch.mutable_entity_keys(0)->add_keys(CustomerKey(entity));
    batch.add_event_time_unix_micros(time);
    batch.mutable_labels()->mutable_int64_values()->add_values(label);
    Put(&raw, entity);
    Put(&raw, time);
    Put(&raw, label);
  }
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(raw.data(), static_cast<std::streamsize>(raw.size()));
  CheckOk(out.good() ? absl::OkStatus() : absl::DataLossError(file), "write labels file");
  return batches;
}

void WritePayments(const AggregateSizes& sizes, int64_t base, const std::string& file,
                   const std::string& group, int batch_rows,
                   const std::function<void(v1::IngestRequest&)>& on_batch) {
  std::ofstream out;
  if (!file.empty()) out.open(file, std::ios::binary | std::ios::trunc);
  std::string raw;
  v1::IngestRequest request;
  auto flush = [&] {
    if (request.rows().entity_keys_size() > 0) on_batch(request);
    request.Clear();
    request.set_group(group);
    request.set_bulk(true);
    request.set_all_or_nothing(true);
    request.mutable_rows()->add_columns()->mutable_feature()->set_feature("amount");
    if (out.is_open()) out.write(raw.data(), static_cast<std::streamsize>(raw.size()));
    raw.clear();
  };
  flush();
  for (int64_t e = 0; e < sizes.entities; ++e) {
    v1::RowBatch* rows = request.mutable_rows();
    v1::ValueColumn* values = rows->mutable_columns(0)->mutable_values();
    for (const Payment& p : Payments(sizes, e, base)) {
      rows->add_entity_keys(CustomerKey(e));
      rows->add_event_time_unix_micros(p.time);
      values->mutable_double_values()->add_values(p.amount);
      values->add_is_null(p.null);
      Put(&raw, e);
      Put(&raw, p.time);
      Put(&raw, p.null ? std::numeric_limits<double>::quiet_NaN() : p.amount);
    }
    if (rows->entity_keys_size() >= batch_rows) flush();
  }
  flush();
  if (out.is_open()) {
    out.close();
    CheckOk(out.good() ? absl::OkStatus() : absl::DataLossError(file), "write payments file");
  }
}

}  // namespace fabrique::bench
