#include "libs/features/storage/tile_merge.h"

#include <cstdint>
#include <cstring>
#include <utility>

#include "libs/features/aggregation/tile_state.h"
#include "rocksdb/merge_operator.h"
#include "rocksdb/options.h"

namespace fabrique::features {
namespace {

void MergeInto(const rocksdb::Slice& operand, TileState* into) {
  // A malformed operand leaves `into` unchanged: skipped.
  into->MergeEncoded(absl::string_view(operand.data(), operand.size())).IgnoreError();
}

// Whether `operand` is an encoded TileState.
bool WellFormed(const rocksdb::Slice& operand) {
  return TileState::WellFormed(absl::string_view(operand.data(), operand.size()));
}

class TileMergeOperator : public rocksdb::MergeOperator {
 public:
  const char* Name() const override { return "fabrique.TileStates"; }

  bool FullMergeV2(const MergeOperationInput& in, MergeOperationOutput* out) const override {
    // A lone operand (ingest writes one per tile and batch) is already the value: hand it back
    // as it is, with no decoding, encoding or copy.
    if (in.existing_value == nullptr && in.operand_list.size() == 1 &&
        WellFormed(in.operand_list[0])) {
      out->existing_operand = in.operand_list[0];
      return true;
    }
    TileState merged;
    if (in.existing_value != nullptr) MergeInto(*in.existing_value, &merged);
    for (const rocksdb::Slice& operand : in.operand_list) MergeInto(operand, &merged);
    out->new_value.clear();
    merged.AppendTo(&out->new_value);
    return true;
  }

  bool PartialMergeMulti(const rocksdb::Slice& key, const std::deque<rocksdb::Slice>& operands,
                         std::string* new_value, rocksdb::Logger* logger) const override {
    TileState merged;
    for (const rocksdb::Slice& operand : operands) MergeInto(operand, &merged);
    new_value->clear();
    merged.AppendTo(new_value);
    return true;
  }

  bool AllowSingleOperand() const override { return true; }
};

}  // namespace

std::shared_ptr<rocksdb::MergeOperator> NewTileMergeOperator() {
  static const auto* const kOperator =
      new std::shared_ptr<rocksdb::MergeOperator>(std::make_shared<TileMergeOperator>());
  return *kOperator;
}

void InstallTileMerge(kv::StoreOptions* options, const std::string& family) {
  auto previous = std::move(options->configure_family);
  options->configure_family = [previous, family](const std::string& name,
                                                 rocksdb::ColumnFamilyOptions* cf) {
    if (previous) previous(name, cf);
    if (name == family) cf->merge_operator = NewTileMergeOperator();
  };
}

}  // namespace fabrique::features
