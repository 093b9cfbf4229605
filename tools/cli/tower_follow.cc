#include "tools/cli/tower_follow.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "google/protobuf/util/time_util.h"
#include "tools/cli/tower_print.h"

namespace fabrique::cli {
namespace {

using google::protobuf::util::TimeUtil;

// Lines on stderr from the job stream and the runs' progress, which a terminal redraws in place.
class ErrorLines {
 public:
  ErrorLines() : terminal_(::isatty(STDERR_FILENO) == 1) {}

  void Line(const std::string& line) {
    std::lock_guard<std::mutex> lock(mu_);
    if (drawn_) std::cerr << "\r\033[K";
    drawn_ = false;
    std::cerr << line << "\n";
  }

  // A progress line: redrawn on a terminal; elsewhere only the ends of epochs, so logs stay short.
  void Progress(const std::string& line, bool epoch_end) {
    std::lock_guard<std::mutex> lock(mu_);
    if (terminal_) {
      std::cerr << "\r\033[K" << line << (epoch_end ? "\n" : "") << std::flush;
      drawn_ = !epoch_end;
    } else if (epoch_end) {
      std::cerr << line << "\n";
    }
  }

 private:
  std::mutex mu_;
  const bool terminal_;
  bool drawn_ = false;
};

std::string ProgressLine(const std::string& job_id, const v1::RunProgress& p) {
  return absl::StrFormat(
      "%s epoch %d/%d  batch %d/%d  loss %.4f  %s %.4f  %.0f samples/s  ETA %ds", job_id, p.epoch(),
      p.epochs_total(), p.batch(), p.batches_per_epoch(), p.train_loss(),
      p.validation_metric().name().empty() ? "val" : p.validation_metric().name(),
      p.validation_metric().value(), p.samples_per_second(),
      static_cast<int>(TimeUtil::DurationToSeconds(p.eta())));
}

// Follows trainer runs' progress, one thread per run, until each is stopped.
class RunProgress {
 public:
  RunProgress(const std::optional<client::TrainerClient>& trainer, ErrorLines* lines)
      : trainer_(trainer), lines_(lines) {}
  ~RunProgress() {
    for (auto& [run_id, follower] : followers_) Stop(follower.get());
  }

  void Start(const std::string& job_id, const std::string& run_id) {
    if (!trainer_ || followers_.count(run_id) > 0) return;
    auto follower = std::make_unique<Follower>();
    absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context =
        trainer_->NewContext(absl::Hours(24 * 7));
    if (!context.ok()) return;
    follower->context = *std::move(context);
    Follower* f = follower.get();
    follower->thread = std::thread([this, f, job_id, run_id] {
      v1::WatchRunRequest request;
      request.set_run_id(run_id);
      auto reader = trainer_->stub()->WatchRun(f->context.get(), request);
      v1::RunEvent event;
      while (reader->Read(&event)) {
        if (event.has_progress() && event.progress().epochs_total() > 0) {
          lines_->Progress(ProgressLine(job_id, event.progress()), event.epoch_end());
        }
      }
      const grpc::Status status = reader->Finish();
      if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED) {
        lines_->Line(
            absl::StrCat("(no progress of run ", run_id, ": ", status.error_message(), ")"));
      }
    });
    followers_[run_id] = std::move(follower);
  }

  void StopAll() {
    for (auto& [run_id, follower] : followers_) Stop(follower.get());
  }

 private:
  struct Follower {
    std::unique_ptr<grpc::ClientContext> context;
    std::thread thread;
  };
  static void Stop(Follower* follower) {
    if (!follower->thread.joinable()) return;
    follower->context->TryCancel();
    follower->thread.join();
  }

  const std::optional<client::TrainerClient>& trainer_;
  ErrorLines* lines_;
  std::map<std::string, std::unique_ptr<Follower>> followers_;
};

// Reads the open jobs every `interval` while a stream is read, and cancels the stream once one
// of them has ended: its end is then read back, even if no event of it reaches the stream.
class EndCheck {
 public:
  EndCheck(const client::TowerClient& tower, std::vector<std::string> open,
           grpc::ClientContext* stream, absl::Duration interval)
      : thread_([this, &tower, open = std::move(open), stream, interval] {
          while (!stop_.WaitForNotificationWithTimeout(interval)) {
            for (const std::string& id : open) {
              v1::GetJobRequest request;
              request.set_id(id);
              absl::StatusOr<v1::Job> job = tower.Call(&TowerStub::GetJob, request, "GetJob");
              if (job.ok() && JobEnded(job->state())) {
                stream->TryCancel();
                return;
              }
            }
          }
        }) {}
  ~EndCheck() {
    stop_.Notify();
    thread_.join();
  }

 private:
  using TowerStub = client::TowerClient::Stub;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace

bool JobEnded(v1::JobState state) {
  return state == v1::JOB_STATE_SUCCEEDED || state == v1::JOB_STATE_FAILED ||
         state == v1::JOB_STATE_CANCELLED;
}

std::string JobChangeLine(const v1::Job& job, bool with_id) {
  std::string reason = job.state_reason();
  if (job.state() == v1::JOB_STATE_FAILED && !job.failure_reason().empty()) {
    reason = job.failure_reason();
  }
  std::string line = with_id ? absl::StrCat("job ", job.id(), ": ") : "";
  absl::StrAppend(&line, JobStateText(job.state()));
  if (job.state() == v1::JOB_STATE_QUEUED && job.queue_position() > 0) {
    absl::StrAppend(&line, " (position ", job.queue_position(), ")");
  }
  if (!reason.empty()) absl::StrAppend(&line, ": ", reason);
  if (job.state() == v1::JOB_STATE_PENDING_APPROVAL && !job.approval_id().empty()) {
    absl::StrAppend(&line, " [approval ", job.approval_id(), "]");
  }
  return line;
}

absl::StatusOr<std::map<std::string, v1::Job>> FollowJobs(const client::TowerClient& tower,
                                                          const std::vector<std::string>& job_ids,
                                                          const FollowOptions& options) {
  using TowerStub = client::TowerClient::Stub;
  const std::set<std::string> wanted(job_ids.begin(), job_ids.end());
  const bool with_id = wanted.size() > 1;
  ErrorLines lines;
  RunProgress progress(options.trainer, &lines);
  std::map<std::string, v1::Job> ended;
  std::map<std::string, std::string> printed;  // The last line printed per job.
  const auto seen = [&](const v1::Job& job) {
    if (wanted.count(job.id()) == 0 || ended.count(job.id()) > 0) return;
    std::string line = JobChangeLine(job, true);
    if (printed[job.id()] != line) {
      printed[job.id()] = line;
      lines.Line(with_id ? line : JobChangeLine(job, false));
    }
    if (job.state() == v1::JOB_STATE_RUNNING && !job.trainer_run_id().empty()) {
      progress.Start(job.id(), job.trainer_run_id());
    }
    if (JobEnded(job.state())) ended[job.id()] = job;
  };
  // Read each first: a job that ended already is in no snapshot.
  const auto read_open = [&]() -> absl::Status {
    for (const std::string& id : wanted) {
      if (ended.count(id) > 0) continue;
      v1::GetJobRequest request;
      request.set_id(id);
      absl::StatusOr<v1::Job> job =
          tower.CallIdempotent(&TowerStub::GetJob, request, "GetJob " + id);
      if (!job.ok()) return job.status();
      seen(*job);
    }
    return absl::OkStatus();
  };
  if (absl::Status read = read_open(); !read.ok()) return read;
  int64_t revision = 0;
  int breaks = 0;
  while (ended.size() < wanted.size()) {
    std::vector<std::string> open;
    for (const std::string& id : wanted) {
      if (ended.count(id) == 0) open.push_back(id);
    }
    absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context =
        tower.NewContext(absl::Hours(24 * 7));
    if (!context.ok()) return context.status();
    v1::WatchJobsRequest request;
    for (const std::string& id : open) request.add_job_ids(id);
    request.set_after_revision(revision);
    request.set_include_snapshot(revision == 0);
    auto reader = tower.stub()->WatchJobs(context->get(), request);
    grpc::Status status;
    {
      EndCheck check(tower, open, context->get(), options.check_interval);
      v1::JobEvent event;
      while (reader->Read(&event)) {
        breaks = 0;
        revision = std::max(revision, event.revision());
        seen(event.job());
        if (ended.size() == wanted.size()) {
          (*context)->TryCancel();
          break;
        }
      }
      status = reader->Finish();
    }
    if (ended.size() == wanted.size()) break;
    if (absl::Status read = read_open(); !read.ok()) return read;
    if (ended.size() == wanted.size()) break;
    if (status.error_code() == grpc::StatusCode::OUT_OF_RANGE) {
      revision = 0;  // Too far behind: start again from a snapshot.
      continue;
    }
    if (status.ok() || status.error_code() == grpc::StatusCode::CANCELLED) continue;
    if (++breaks > options.max_reconnects) return tower.Error(status, "WatchJobs");
    lines.Line(absl::StrCat("(the job stream broke: ", status.error_message(), "; resuming)"));
    std::this_thread::sleep_for(std::chrono::seconds(breaks));
  }
  progress.StopAll();
  return ended;
}

}  // namespace fabrique::cli
