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
  const double rate = static_cast<double>(rows) / seconds;
  const double fraction =
      options_.total_bytes > 0
          ? std::min(1.0, static_cast<double>(bytes) / static_cast<double>(options_.total_bytes))
          : 0.0;
  if (!options_.terminal) {
    *out_ << absl::StrFormat("%d rows sent (%.0f%%), %.0f rows/s\n", rows, fraction * 100, rate);
    out_->flush();
    return;
  }
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(fraction * kWidth);
  const std::string bar = std::string(filled, '#') + std::string(kWidth - filled, '.');
  *out_ << absl::StrFormat("\r[%s] %3.0f%%  %d rows  %.0f rows/s\x1b[K", bar, fraction * 100, rows,
                           rate);
  out_->flush();
}

}  // namespace fabrique::cli
