// The CSV reader and cell parsing behind `fabrique features ingest`: RFC 4180 quoting, line
// numbers of records that span lines, recovery after a malformed record, and each feature type.

#include "tools/cli/csv_reader.h"

#include <sstream>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/features/columns/value_column.h"
#include "tools/cli/csv_cells.h"

namespace fabrique::cli {
namespace {

std::vector<std::vector<std::string>> ReadAll(const std::string& text,
                                              std::vector<int64_t>* lines = nullptr) {
  std::istringstream in(text);
  CsvReader reader(&in);
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> fields;
  while (true) {
    absl::StatusOr<bool> more = reader.Next(&fields);
    REQUIRE(more.ok());
    if (!*more) break;
    records.push_back(fields);
    if (lines != nullptr) lines->push_back(reader.record_line());
  }
  return records;
}

TEST_CASE("CsvReader drops a UTF-8 byte order mark before the header, as Excel writes it") {
  using Row = std::vector<std::string>;
  CHECK(ReadAll("\xEF\xBB\xBF"
                "customer_id,amount\r\nc1,1\r\n") ==
        std::vector<Row>{{"customer_id", "amount"}, {"c1", "1"}});
  // Only at the very start: elsewhere the same bytes are data.
  CHECK(ReadAll("a\n\xEF\xBB\xBF"
                "b\n") == std::vector<Row>{{"a"},
                                           {"\xEF\xBB\xBF"
                                            "b"}});
  // A quoted first field after the mark still opens its quote.
  CHECK(ReadAll("\xEF\xBB\xBF\"id\",x\n") == std::vector<Row>{{"id", "x"}});
}

TEST_CASE("CsvReader splits plain and quoted fields") {
  using Row = std::vector<std::string>;
  CHECK(ReadAll("a,b,c\n1,,3\n") == std::vector<Row>{{"a", "b", "c"}, {"1", "", "3"}});
  CHECK(ReadAll("\"x, y\",\"say \"\"hi\"\"\",\"\"\r\n") ==
        std::vector<Row>{{"x, y", "say \"hi\"", ""}});
  CHECK(ReadAll("a,\n") == std::vector<Row>{{"a", ""}});
  CHECK(ReadAll("no newline at end") == std::vector<Row>{{"no newline at end"}});
}

TEST_CASE("CsvReader gives the line each record starts on, across quoted line breaks") {
  std::vector<int64_t> lines;
  const auto records = ReadAll("h\n\"two\nlines\"\n\nlast\n", &lines);
  REQUIRE(records.size() == 3);
  CHECK(records[1][0] == "two\nlines");
  CHECK(lines == std::vector<int64_t>{1, 2, 5});  // The blank line 4 is skipped.
}

TEST_CASE("CsvReader rejects a stray quote and goes on with the next line") {
  std::istringstream in("ab\"c,1\nok,2\n\"never closed\n");
  CsvReader reader(&in);
  std::vector<std::string> fields;
  CHECK(reader.Next(&fields).status().code() == absl::StatusCode::kInvalidArgument);
  absl::StatusOr<bool> next = reader.Next(&fields);
  REQUIRE(next.ok());
  CHECK(fields == std::vector<std::string>{"ok", "2"});
  CHECK(reader.record_line() == 2);
  CHECK(reader.Next(&fields).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("ParseCell reads each feature type and empty cells as null") {
  Cell cell;
  REQUIRE(ParseCell("2.5", v1::FEATURE_TYPE_DOUBLE, &cell).ok());
  CHECK(cell.number == 2.5);
  REQUIRE(ParseCell(" -7 ", v1::FEATURE_TYPE_INT64, &cell).ok());
  CHECK(cell.integer == -7);
  REQUIRE(ParseCell("true", v1::FEATURE_TYPE_BOOL, &cell).ok());
  CHECK(cell.integer == 1);
  REQUIRE(ParseCell("1;2.5;3", v1::FEATURE_TYPE_FLOAT_VECTOR, &cell).ok());
  CHECK(cell.vector == std::vector<float>{1, 2.5f, 3});
  REQUIRE(ParseCell("", v1::FEATURE_TYPE_INT64, &cell).ok());
  CHECK(cell.is_null);
  CHECK(ParseCell("many", v1::FEATURE_TYPE_INT64, &cell).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(ParseCell("1;x", v1::FEATURE_TYPE_FLOAT_VECTOR, &cell).code() ==
        absl::StatusCode::kInvalidArgument);

  v1::ValueColumn column;
  features::SetColumnType(v1::FEATURE_TYPE_INT64, &column);
  REQUIRE(ParseCell("4", v1::FEATURE_TYPE_INT64, &cell).ok());
  AppendCell(cell, v1::FEATURE_TYPE_INT64, &column);
  REQUIRE(ParseCell("", v1::FEATURE_TYPE_INT64, &cell).ok());
  AppendCell(cell, v1::FEATURE_TYPE_INT64, &column);
  CHECK(column.int64_values().values_size() == 2);
  CHECK(column.is_null_size() == 2);
  CHECK(column.is_null(1));
}

TEST_CASE("ParseEventTimeMicros reads RFC 3339 and Unix microseconds") {
  CHECK(*ParseEventTimeMicros("1700000000000000") == 1700000000000000);
  CHECK(*ParseEventTimeMicros("2023-11-14T22:13:20Z") == 1700000000000000);
  CHECK(*ParseEventTimeMicros("2023-11-14T23:13:20.5+01:00") == 1700000000500000);
  CHECK(ParseEventTimeMicros("yesterday").status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fabrique::cli
