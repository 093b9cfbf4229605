#ifndef FABRIQUE_TOOLS_CLI_PROGRESS_BAR_H_
#define FABRIQUE_TOOLS_CLI_PROGRESS_BAR_H_

// Shows how a long CLI operation advances, on stderr so stdout stays the clean result. On a
// terminal it redraws one line (bar, percent, rows, rows/s) at most ~10 times a second; when
// stderr is a file or a pipe (CI logs) it prints a plain line every few seconds instead. Transfers
// count bytes instead of rows (Options::bytes): MiB done and MiB/s.

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/time/time.h"

namespace fabrique::cli {

class ProgressBar {
 public:
  struct Options {
    int64_t total_bytes = 0;  // Size of the input; 0 = unknown (no percent shown).
    bool terminal = false;    // Redraw in place rather than print lines.
    // Count bytes (MiB, MiB/s) rather than rows; `rows` is then ignored. `label` starts each line
    // of a transfer, e.g. "uploading model.pt".
    bool bytes = false;
    std::string label;
    // What was done to the rows, in the plain lines: "120 rows sent (40%)".
    std::string rows_verb = "sent";
    absl::Duration redraw_interval = absl::Milliseconds(100);  // On a terminal.
    absl::Duration line_interval = absl::Seconds(5);           // Otherwise.
  };
  ProgressBar(Options options, std::ostream* out);

  // Reports `rows` done after reading `bytes` of the input; draws only if the interval passed.
  void Update(int64_t rows, int64_t bytes);
  // Draws the final state and ends the terminal line.
  void Finish(int64_t rows, int64_t bytes);

 private:
  void Draw(int64_t rows, int64_t bytes);

  Options options_;
  std::ostream* out_;
  absl::Time start_;
  absl::Time last_draw_;
  bool drawn_ = false;
};

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_PROGRESS_BAR_H_
