#include "libs/features/storage/online_merge.h"

#include <cstdint>
#include <limits>
#include <utility>

#include "libs/features/storage/row_codec.h"
#include "rocksdb/merge_operator.h"
#include "rocksdb/options.h"

namespace fabrique::features {
namespace {

int64_t EventTimeOrOldest(const rocksdb::Slice& row) {
  absl::StatusOr<int64_t> time = PeekEventTime(absl::string_view(row.data(), row.size()));
  return time.ok() ? *time : std::numeric_limits<int64_t>::min();
}

class NewestRowMergeOperator : public rocksdb::MergeOperator {
 public:
  const char* Name() const override { return "fabrique.NewestRowWins"; }

  bool FullMergeV2(const MergeOperationInput& in, MergeOperationOutput* out) const override {
    const rocksdb::Slice* newest = in.existing_value;
    int64_t newest_time =
        newest != nullptr ? EventTimeOrOldest(*newest) : std::numeric_limits<int64_t>::min();
    for (const rocksdb::Slice& operand : in.operand_list) {
      const int64_t time = EventTimeOrOldest(operand);
      // `>=`: operands are in write order, so on a tie the later write wins.
      if (newest == nullptr || time >= newest_time) {
        newest = &operand;
        newest_time = time;
      }
    }
    // The result is one of the inputs: RocksDB takes it without a copy.
    out->existing_operand = *newest;
    return true;
  }

  bool PartialMergeMulti(const rocksdb::Slice& key, const std::deque<rocksdb::Slice>& operands,
                         std::string* new_value, rocksdb::Logger* logger) const override {
    const rocksdb::Slice* newest = &operands.front();
    int64_t newest_time = EventTimeOrOldest(*newest);
    for (const rocksdb::Slice& operand : operands) {
      const int64_t time = EventTimeOrOldest(operand);
      if (time >= newest_time) {
        newest = &operand;
        newest_time = time;
      }
    }
    new_value->assign(newest->data(), newest->size());
    return true;
  }

  // Two rows can always be combined into one: the older is never needed again.
  bool AllowSingleOperand() const override { return true; }
};

}  // namespace

std::shared_ptr<rocksdb::MergeOperator> NewNewestRowMergeOperator() {
  static const auto* const kOperator =
      new std::shared_ptr<rocksdb::MergeOperator>(std::make_shared<NewestRowMergeOperator>());
  return *kOperator;
}

void InstallOnlineMerge(kv::StoreOptions* options, const std::string& family) {
  auto previous = std::move(options->configure_family);
  options->configure_family = [previous, family](const std::string& name,
                                                 rocksdb::ColumnFamilyOptions* cf) {
    if (previous) previous(name, cf);
    if (name == family) cf->merge_operator = NewNewestRowMergeOperator();
  };
}

}  // namespace fabrique::features
