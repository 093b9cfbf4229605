#ifndef FABRIQUE_LIBS_FEATURES_CATALOG_FEATURE_TYPES_H_
#define FABRIQUE_LIBS_FEATURES_CATALOG_FEATURE_TYPES_H_

// What the catalog needs to know about feature types: their names in messages, which
// expectations make sense for which type, and which type a Value or ValueColumn carries.
//
// FeatureType, Value::KindCase and ValueColumn::ValuesCase share their numbers (float = 1 ...
// float vector = 6) by design of common.proto; the functions here rely on it, and
// feature_types.cc checks it at compile time.

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "fabrique/v1/common.pb.h"

namespace fabrique::features {

// "float", "double", "int64", "bool", "string", "float_vector", or "unspecified".
absl::string_view FeatureTypeName(v1::FeatureType type);

// Float, double and int64: the types min_value / max_value apply to.
bool IsNumericType(v1::FeatureType type);
// Float, double and float vector: the types `finite` applies to.
bool IsFloatingType(v1::FeatureType type);
// String, int64 and bool: the types allowed_values applies to.
bool SupportsAllowedValues(v1::FeatureType type);

// The type of a value; UNSPECIFIED for null.
v1::FeatureType ValueType(const v1::Value& value);

// A short human-readable form of a value for error messages, e.g. 3.5, "eu", true, [1, 2, ...];
// strings and vectors are shortened so a message stays small.
std::string DescribeValue(const v1::Value& value);
// A string value quoted and shortened to at most 64 bytes.
std::string QuoteShort(absl::string_view text);

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_CATALOG_FEATURE_TYPES_H_
