#include "tools/cli/csv_reader.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace fabrique::cli {

bool CsvReader::ReadLine(std::string* line) {
  if (!std::getline(*in_, *line)) return false;
  bytes_read_ += static_cast<int64_t>(line->size()) + 1;
  // Excel and Windows tools start UTF-8 files with a byte order mark, which would otherwise
  // become an invisible part of the first column's name.
  constexpr absl::string_view kUtf8Bom = "\xEF\xBB\xBF";
  if (line_++ == 0 && absl::StartsWith(*line, kUtf8Bom)) line->erase(0, kUtf8Bom.size());
  if (!line->empty() && line->back() == '\r') line->pop_back();
  return true;
}

absl::StatusOr<bool> CsvReader::Next(std::vector<std::string>* fields) {
  fields->clear();
  std::string line;
  do {
    if (!ReadLine(&line)) return false;
  } while (line.empty());
  record_line_ = line_;

  std::string field;
  bool quoted = false;      // Inside a quoted field.
  bool was_quoted = false;  // The current field started with a quote.
  size_t i = 0;
  while (true) {
    if (i == line.size()) {
      if (!quoted) break;
      // A quoted field goes on to the next line: the line break is part of the value.
      if (!ReadLine(&line)) {
        return absl::InvalidArgumentError(
            absl::StrCat("line ", record_line_, ": a quoted field is never closed"));
      }
      field.push_back('\n');
      i = 0;
      continue;
    }
    const char c = line[i++];
    if (quoted) {
      if (c != '"') {
        field.push_back(c);
      } else if (i < line.size() && line[i] == '"') {
        field.push_back('"');  // A doubled quote stands for one quote.
        ++i;
      } else {
        quoted = false;
      }
    } else if (c == ',') {
      fields->push_back(std::move(field));
      field.clear();
      was_quoted = false;
    } else if (c == '"' && field.empty() && !was_quoted) {
      quoted = true;
      was_quoted = true;
    } else if (c == '"' || was_quoted) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_,
                       ": stray character in a field; quote the whole field and double any "
                       "quote inside it"));
    } else {
      field.push_back(c);
    }
  }
  fields->push_back(std::move(field));
  return true;
}

}  // namespace fabrique::cli
