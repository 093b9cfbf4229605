#ifndef FABRIQUE_TOOLS_CLI_CSV_READER_H_
#define FABRIQUE_TOOLS_CLI_CSV_READER_H_

// Reads CSV records (RFC 4180) from a stream one at a time, so that `fabrique features ingest`
// loads files of any size in bounded memory. Quoted fields may hold commas, doubled quotes ("")
// and line breaks; CRLF and LF line ends are both accepted; blank lines are skipped; a UTF-8 byte
// order mark at the start of the input (as Excel writes) is dropped.
//
//   CsvReader reader(&file);
//   std::vector<std::string> fields;
//   while (true) {
//     ASSIGN_OR_RETURN(bool more, reader.Next(&fields));
//     if (!more) break;
//     ... reader.record_line() is the file line the record started on ...
//   }

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace fabrique::cli {

class CsvReader {
 public:
  explicit CsvReader(std::istream* in) : in_(in) {}

  // Reads the next record into `fields` (replacing its contents; reused to avoid an allocation
  // per row). Returns false at the end of the input, INVALID_ARGUMENT naming the line for a
  // quoted field that never closes or a quote inside an unquoted field.
  absl::StatusOr<bool> Next(std::vector<std::string>* fields);

  // The line (from 1) the last record returned by Next started on.
  int64_t record_line() const { return record_line_; }
  // Bytes consumed so far, for progress against the file size.
  int64_t bytes_read() const { return bytes_read_; }

 private:
  bool ReadLine(std::string* line);

  std::istream* in_;
  int64_t line_ = 0;
  int64_t record_line_ = 0;
  int64_t bytes_read_ = 0;
};

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_CSV_READER_H_
