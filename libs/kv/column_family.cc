#include "libs/kv/column_family.h"

#include "rocksdb/db.h"

namespace fabrique::kv {

const std::string& ColumnFamily::name() const {
  static const std::string* const kNoName = new std::string();
  return handle_ != nullptr ? handle_->GetName() : *kNoName;
}

}  // namespace fabrique::kv
