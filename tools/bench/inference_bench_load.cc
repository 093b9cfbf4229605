#include "tools/bench/inference_bench_load.h"

#include <chrono>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "inference/grpc_predict_v2.grpc.pb.h"

namespace fabrique::bench {
namespace {

using Clock = std::chrono::steady_clock;
using Stub = ::inference::GRPCInferenceService::Stub;

double SecondsSince(Clock::time_point start, Clock::time_point t) {
  return std::chrono::duration<double>(t - start).count();
}

// What the runs share: the stubs, the start of the run, the counters and the first problem.
class Caller {
 public:
  explicit Caller(const LoadTarget& target) : target_(target), start_(Clock::now()) {
    for (const auto& channel : target.channels)
      stubs_.push_back(::inference::GRPCInferenceService::NewStub(channel));
  }

  Clock::time_point start() const { return start_; }

  // Sends requests[index] on stub `lane` (mod the stubs), due at `due`; fills `*sample` when the
  // answer comes, then calls `then`. One call at a time per `sample`.
  void Send(size_t lane, size_t index, Clock::time_point due, Sample* sample,
            std::function<void()> then) {
    auto call = std::make_shared<Call>();
    call->context = target_.security->Context(target_.timeout);
    const auto& request = (*target_.requests)[index % target_.requests->size()];
    in_flight_.fetch_add(1);
    stubs_[lane % stubs_.size()]->async()->ModelInfer(
        call->context.get(), &request, &call->response,
        [this, call, index, due, sample, then = std::move(then)](grpc::Status status) {
          Record(status, call->response, index, due, sample);
          then();
          // Under the lock, so that AwaitIdle returns only once no callback touches this.
          absl::MutexLock lock(&mu_);
          in_flight_.fetch_sub(1);
        });
  }

  // Waits until no call is in flight.
  void AwaitIdle() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](Caller* c) { return c->in_flight_.load() == 0; }, this));
  }

  void Finish(LoadRun* run) {
    run->failed = failed_.load();
    run->wrong = wrong_.load();
    absl::MutexLock lock(&mu_);
    run->first_problem = first_problem_;
  }

 private:
  struct Call {
    std::unique_ptr<grpc::ClientContext> context;
    ::inference::ModelInferResponse response;
  };

  void Record(const grpc::Status& status, const ::inference::ModelInferResponse& response,
              size_t index, Clock::time_point due, Sample* sample) {
    const Clock::time_point now = Clock::now();
    sample->due_s = SecondsSince(start_, due);
    sample->answered_s = SecondsSince(start_, now);
    sample->latency_ms = std::chrono::duration<double, std::milli>(now - due).count();
    sample->ok = status.ok();
    if (!status.ok()) {
      failed_.fetch_add(1);
      Problem(absl::StrCat("code ", status.error_code(), ": ", status.error_message()));
    } else {
      if (!absl::SimpleAtoi(response.model_version(), &sample->version)) sample->version = -1;
      if (target_.check && checked_.fetch_add(1) % target_.check_every == 0) {
        std::string wrong = target_.check(index % target_.requests->size(), response);
        if (!wrong.empty()) {
          wrong_.fetch_add(1);
          Problem(wrong);
        }
      }
    }
    if (target_.on_answer) target_.on_answer(*sample);
  }

  void Problem(const std::string& what) {
    absl::MutexLock lock(&mu_);
    if (first_problem_.empty()) first_problem_ = what;
  }

  const LoadTarget& target_;
  const Clock::time_point start_;
  std::vector<std::unique_ptr<Stub>> stubs_;
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> failed_{0};
  std::atomic<int64_t> wrong_{0};
  std::atomic<int64_t> checked_{0};
  absl::Mutex mu_;
  std::string first_problem_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

double LoadRun::LatencyMs(double p) const {
  std::vector<double> latencies;
  latencies.reserve(samples.size());
  for (const Sample& s : samples) {
    if (s.ok) latencies.push_back(s.latency_ms);
  }
  return Percentile(std::move(latencies), p);
}

LoadRun ClosedLoop(const LoadTarget& target, int clients, absl::Duration duration) {
  Caller caller(target);
  std::atomic<bool> stop{false};
  // Each client's samples, appended only by its own (sequential) callbacks.
  std::vector<std::deque<Sample>> own(clients);
  std::vector<size_t> next(clients);
  std::function<void(int)> issue = [&](int c) {
    Sample* sample = &own[c].emplace_back();
    const size_t index = next[c]++ * clients + c;
    caller.Send(c, index, Clock::now(), sample, [&, c] {
      if (!stop.load(std::memory_order_relaxed)) issue(c);
    });
  };
  for (int c = 0; c < clients; ++c) issue(c);
  std::this_thread::sleep_for(absl::ToChronoNanoseconds(duration));
  stop = true;
  const double window = SecondsSince(caller.start(), Clock::now());
  caller.AwaitIdle();
  LoadRun run;
  run.seconds = window;
  for (auto& samples : own) {
    for (const Sample& s : samples) {
      if (s.ok && s.answered_s <= window) ++run.answered;
      run.samples.push_back(s);
    }
  }
  caller.Finish(&run);
  return run;
}

LoadRun OpenLoop(const LoadTarget& target, double rate, absl::Duration duration,
                 const std::atomic<bool>* stop) {
  Caller caller(target);
  LoadRun run;
  const auto interval = std::chrono::duration<double>(1.0 / rate);
  const Clock::time_point end = caller.start() + absl::ToChronoNanoseconds(duration);
  for (size_t i = 0;; ++i) {
    const Clock::time_point due =
        caller.start() + std::chrono::duration_cast<Clock::duration>(interval * i);
    if (due > end || (stop != nullptr && stop->load())) break;
    std::this_thread::sleep_until(due);
    // References into a deque survive appends: the callback fills its own sample.
    caller.Send(i, i, due, &run.samples.emplace_back(), [] {});
  }
  caller.AwaitIdle();
  run.seconds = SecondsSince(caller.start(), Clock::now());
  for (const Sample& s : run.samples) run.answered += s.ok;
  caller.Finish(&run);
  return run;
}

}  // namespace fabrique::bench
