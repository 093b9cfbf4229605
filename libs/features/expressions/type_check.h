#ifndef FABRIQUE_LIBS_FEATURES_EXPRESSIONS_TYPE_CHECK_H_
#define FABRIQUE_LIBS_FEATURES_EXPRESSIONS_TYPE_CHECK_H_

// Types a parsed expression against the features it may read: sets every node's type and every
// feature's input index, and refuses what cannot be evaluated, naming the position.

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "fabrique/v1/common.pb.h"
#include "libs/features/expressions/syntax_tree.h"

namespace fabrique::features::expr {

// Deepest tree accepted (a long chain such as 1+1+1+... is as deep as it is long).
inline constexpr int kMaxTreeDepth = 256;

// "INT64", "FLOAT_VECTOR": the type's name as error messages give it.
std::string ShortTypeName(v1::FeatureType type);

// The value type an input of `type` reads as; kNull for types expressions cannot read.
ValueType InputValueType(v1::FeatureType type);

// Checks `root`, filling `input_names` with the features it reads, each once, sorted; a feature
// node's input_index indexes that list.
absl::Status CheckTypes(absl::string_view text,
                        const absl::flat_hash_map<std::string, v1::FeatureType>& inputs, Node* root,
                        std::vector<std::string>* input_names);

}  // namespace fabrique::features::expr

#endif  // FABRIQUE_LIBS_FEATURES_EXPRESSIONS_TYPE_CHECK_H_
