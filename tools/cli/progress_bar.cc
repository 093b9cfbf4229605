#include "tools/cli/progress_bar.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace fabrique::cli {

ProgressBar::ProgressBar(Options options, std::ostream* out)
    : options_(options), out_(out), start_(absl::Now()), last_draw_(start_) {}

void ProgressBar::Update(int64_t rows, int64_t bytes) {
  const absl::Time now = absl::Now();
  const absl::Duration interval =
      options_.terminal ? options_.redraw_interval : options_.line_interval;
  if (now - last_draw_ < interval) return;
  last_draw_ = now;
  Draw(rows, bytes);
}

void ProgressBar::Finish(int64_t rows, int64_t bytes) {
  // A pipe gets no final line when nothing was printed yet: the summary says it all.
  if (!options_.terminal && !drawn_) return;
  Draw(rows, bytes);
  if (options_.terminal) *out_ << "\n";
  out_->flush();
}

void ProgressBar::Draw(int64_t rows, int64_t bytes) {
  drawn_ = true;
  const double seconds = std::max(absl::ToDoubleSeconds(absl::Now() - start_), 1e-6);
  const double fraction =
      options_.total_bytes > 0
          ? std::min(1.0, static_cast<double>(bytes) / static_cast<double>(options_.total_bytes))
          : 0.0;
  constexpr double kMiB = 1 << 20;
  // What was done and how fast: "120 rows  40 rows/s" or "12.0 of 50.0 MiB  80.1 MiB/s".
  const std::string done =
      options_.bytes
          ? absl::StrFormat("%.1f of %.1f MiB  %.1f MiB/s", bytes / kMiB,
                            options_.total_bytes / kMiB, bytes / kMiB / seconds)
          : absl::StrFormat("%d rows  %.0f rows/s", rows, static_cast<double>(rows) / seconds);
  const std::string label = options_.label.empty() ? "" : options_.label + " ";
  if (!options_.terminal) {
    if (options_.bytes) {
      *out_ << absl::StrFormat("%s%.0f%%  %s\n", label, fraction * 100, done);
    } else {
      *out_ << absl::StrFormat("%s%d rows %s (%.0f%%), %.0f rows/s\n", label, rows,
                               options_.rows_verb, fraction * 100,
                               static_cast<double>(rows) / seconds);
    }
    out_->flush();
    return;
  }
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(fraction * kWidth);
  const std::string bar = std::string(filled, '#') + std::string(kWidth - filled, '.');
  *out_ << absl::StrFormat("\r%s[%s] %3.0f%%  %s\x1b[K", label, bar, fraction * 100, done);
  out_->flush();
}

}  // namespace fabrique::cli
