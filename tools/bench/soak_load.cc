#include "tools/bench/soak_load.h"

#include <atomic>
#include <chrono>

namespace fabrique::bench {
namespace {

using Clock = std::chrono::steady_clock;

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace

void CallLog::Record(double ms, const std::string& problem) {
  std::lock_guard<std::mutex> lock(mu_);
  current_.ms.push_back(ms);
  if (tracing_) trace_.push_back(ms);
  if (problem.empty()) return;
  if (current_.failed++ == 0) current_.first_problem = problem;
}

CallLog::Interval CallLog::Take() {
  std::lock_guard<std::mutex> lock(mu_);
  Interval taken = std::move(current_);
  current_ = Interval();
  return taken;
}

std::vector<double> CallLog::TakeTrace() {
  std::lock_guard<std::mutex> lock(mu_);
  tracing_ = true;
  std::vector<double> taken = std::move(trace_);
  trace_.clear();
  return taken;
}

std::vector<double> ClosedLoop(const std::vector<ClosedLoopPart>& parts, absl::Duration duration) {
  std::atomic<bool> stop{false};
  std::vector<std::atomic<int64_t>> ok(parts.size());
  for (auto& count : ok) count = 0;
  std::atomic<uint64_t> seq{0};
  std::vector<std::thread> threads;
  const Clock::time_point start = Clock::now();
  for (size_t p = 0; p < parts.size(); ++p) {
    for (int w = 0; w < parts[p].workers; ++w) {
      threads.emplace_back([&, p] {
        while (!stop.load(std::memory_order_relaxed)) {
          const Clock::time_point begun = Clock::now();
          const std::string problem = (*parts[p].call)(seq.fetch_add(1));
          parts[p].log->Record(MillisSince(begun), problem);
          if (problem.empty()) ok[p].fetch_add(1);
        }
      });
    }
  }
  std::this_thread::sleep_for(absl::ToChronoNanoseconds(duration));
  // Rates over the window itself: calls still in flight when it closes are not counted.
  std::vector<double> rates;
  const double seconds = MillisSince(start) / 1000;
  for (auto& count : ok) rates.push_back(count.load() / seconds);
  stop = true;
  for (std::thread& thread : threads) thread.join();
  return rates;
}

OpenLoop::OpenLoop(SoakCall call, double rate, int workers, CallLog* log)
    : call_(std::move(call)), rate_(rate), log_(log) {
  for (int w = 0; w < workers; ++w) workers_.emplace_back([this] { Work(); });
  dispatcher_ = std::thread([this] { Dispatch(); });
}

void OpenLoop::Dispatch() {
  const Clock::time_point start = Clock::now();
  const auto due = [&](uint64_t n) {
    return start + std::chrono::duration_cast<Clock::duration>(
                       std::chrono::duration<double>(static_cast<double>(n) / rate_));
  };
  uint64_t next = 0;
  while (true) {
    int added = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      // Every call due by now, however late this thread woke.
      const Clock::time_point now = Clock::now();
      while (due(next) <= now) {
        due_.emplace_back(next, due(next));
        ++next;
        ++added;
      }
      max_backlog_ = std::max<int64_t>(max_backlog_, due_.size());
    }
    // One worker woken per call, after the lock is let go: waking all of them (32 per kind) for
    // every call spent the soak client's CPU on futex wake-ups, taken from the factory it measures.
    for (int i = 0; i < added; ++i) ready_.notify_one();
    std::this_thread::sleep_until(due(next));
  }
}

void OpenLoop::Work() {
  while (true) {
    std::pair<uint64_t, Clock::time_point> call;
    {
      std::unique_lock<std::mutex> lock(mu_);
      ready_.wait(lock, [this] { return stopping_ || !due_.empty(); });
      if (due_.empty()) return;  // Stopping, and nothing left that was due.
      call = due_.front();
      due_.pop_front();
    }
    const std::string problem = call_(call.first);
    log_->Record(MillisSince(call.second), problem);
  }
}

void OpenLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !dispatcher_.joinable()) return;
    stopping_ = true;
  }
  ready_.notify_all();
  if (dispatcher_.joinable()) dispatcher_.join();
  for (std::thread& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
}

}  // namespace fabrique::bench
