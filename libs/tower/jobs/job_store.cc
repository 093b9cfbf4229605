#include "libs/tower/jobs/job_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/core/stored_proto.h"
#include "libs/kv/key_codec.h"
#include "libs/kv/write_batch.h"
#include "libs/tower/jobs/job_requests.h"

namespace fabrique::tower {
namespace {

// Key prefixes of the jobs family: one tag byte, then the id.
constexpr char kJobTag[] = "j";
constexpr char kUnfinishedTag[] = "u";
constexpr char kRequestTag[] = "r";
constexpr char kLoopTag[] = "l";

std::string Key(absl::string_view tag, absl::string_view id) {
  return kv::KeyBuilder().AddString(tag).AddString(id).key();
}
std::string Prefix(absl::string_view tag) { return kv::KeyBuilder().AddString(tag).key(); }
std::string EventKey(int64_t revision) { return kv::KeyBuilder().AddInt64(revision).key(); }

// The id a key of `tag` names.
absl::StatusOr<std::string> IdOf(absl::string_view key) {
  kv::KeyReader reader(key);
  ASSIGN_OR_RETURN(std::string tag, reader.ReadString());
  return reader.ReadString();
}

}  // namespace

bool IsFinished(v1::JobState state) {
  return state == v1::JOB_STATE_SUCCEEDED || state == v1::JOB_STATE_FAILED ||
         state == v1::JOB_STATE_CANCELLED;
}

bool JobFilter::Matches(const v1::Job& job) const {
  if (!squad.empty() && job.squad() != squad) return false;
  if (!use_case_id.empty() && job.use_case_id() != use_case_id) return false;
  if (!states.empty() && std::find(states.begin(), states.end(), job.state()) == states.end()) {
    return false;
  }
  if (!job_ids.empty() && std::find(job_ids.begin(), job_ids.end(), job.id()) == job_ids.end()) {
    return false;
  }
  return true;
}

absl::StatusOr<std::unique_ptr<JobStore>> JobStore::Open(kv::Store* store,
                                                         int64_t event_retention) {
  if (store == nullptr) return absl::InvalidArgumentError("the job store needs a kv store");
  if (event_retention < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("job event retention must be at least 1, not ", event_retention));
  }
  ASSIGN_OR_RETURN(kv::ColumnFamily jobs, store->Family(kJobsFamily));
  ASSIGN_OR_RETURN(kv::ColumnFamily events, store->Family(kJobEventsFamily));
  std::unique_ptr<JobStore> job_store(new JobStore(store, jobs, events, event_retention));
  ASSIGN_OR_RETURN(std::unique_ptr<kv::Iterator> it, store->NewIterator(events));
  it->SeekToLast();
  if (it->Valid()) {
    kv::KeyReader reader(it->key());
    ASSIGN_OR_RETURN(int64_t last, reader.ReadInt64());
    job_store->next_revision_ = last + 1;
  }
  RETURN_IF_ERROR(it->status());
  return job_store;
}

absl::StatusOr<std::vector<v1::Job>> JobStore::LoadUnfinished() const {
  std::vector<std::string> ids;
  absl::Status scanned = store_->Scan(jobs_, kv::KeyRange::Prefix(Prefix(kUnfinishedTag)),
                                      [&](absl::string_view key, absl::string_view) {
                                        absl::StatusOr<std::string> id = IdOf(key);
                                        if (id.ok()) ids.push_back(*std::move(id));
                                        return true;
                                      });
  RETURN_IF_ERROR(scanned);
  std::vector<v1::Job> jobs;
  for (const std::string& id : ids) {
    ASSIGN_OR_RETURN(v1::Job job, Get(id));
    jobs.push_back(std::move(job));
  }
  return jobs;
}

absl::StatusOr<std::vector<std::string>> JobStore::LoadLoopsDue() const {
  std::vector<std::string> ids;
  RETURN_IF_ERROR(store_->Scan(jobs_, kv::KeyRange::Prefix(Prefix(kLoopTag)),
                               [&](absl::string_view key, absl::string_view) {
                                 absl::StatusOr<std::string> id = IdOf(key);
                                 if (id.ok()) ids.push_back(*std::move(id));
                                 return true;
                               }));
  return ids;
}

absl::StatusOr<std::map<std::pair<std::string, v1::JobState>, int>> JobStore::CountByState() const {
  std::map<std::pair<std::string, v1::JobState>, int> counts;
  RETURN_IF_ERROR(
      store_->Scan(jobs_, kv::KeyRange::Prefix(Prefix(kJobTag)),
                   [&](absl::string_view, absl::string_view value) {
                     v1::Job job;
                     if (job.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
                       ++counts[{job.squad(), job.state()}];
                     }
                     return true;
                   }));
  return counts;
}

absl::StatusOr<v1::Job> JobStore::Get(absl::string_view id) const {
  absl::StatusOr<std::string> bytes = store_->Get(jobs_, Key(kJobTag, id));
  if (absl::IsNotFound(bytes.status())) {
    return absl::NotFoundError(absl::StrCat("no job '", id, "'; ListJobs shows the jobs"));
  }
  if (!bytes.ok()) return bytes.status();
  return core::ParseStored<v1::Job>(*bytes, "job");
}

absl::StatusOr<std::optional<v1::Job>> JobStore::FindByRequest(absl::string_view request_id) const {
  absl::StatusOr<std::string> id = store_->Get(jobs_, Key(kRequestTag, request_id));
  if (absl::IsNotFound(id.status())) return std::optional<v1::Job>();
  if (!id.ok()) return id.status();
  ASSIGN_OR_RETURN(v1::Job job, Get(*id));
  return std::optional<v1::Job>(std::move(job));
}

absl::StatusOr<JobPage> JobStore::List(const JobFilter& filter, int page_size,
                                       absl::string_view page_token) const {
  if (page_size < 0) {
    return absl::InvalidArgumentError(absl::StrCat("page_size must be >= 0, not ", page_size));
  }
  const int limit = page_size == 0 ? 100 : std::min(page_size, 1000);
  ASSIGN_OR_RETURN(std::unique_ptr<kv::Iterator> it,
                   store_->NewIterator(jobs_, kv::KeyRange::Prefix(Prefix(kJobTag))));
  // The token is the id of the last job of the previous page; the next page starts before it.
  if (page_token.empty()) {
    it->SeekToLast();
  } else {
    it->SeekForPrev(Key(kJobTag, page_token));
    if (it->Valid() && it->key() == Key(kJobTag, page_token)) it->Prev();
  }
  JobPage page;
  for (; it->Valid(); it->Prev()) {
    ASSIGN_OR_RETURN(v1::Job job, core::ParseStored<v1::Job>(it->value(), "job"));
    if (!filter.Matches(job)) continue;
    if (static_cast<int>(page.jobs.size()) == limit) {
      page.next_page_token = page.jobs.back().id();
      break;
    }
    page.jobs.push_back(std::move(job));
  }
  RETURN_IF_ERROR(it->status());
  return page;
}

absl::StatusOr<v1::JobEvent> JobStore::Record(const v1::Job& job, v1::JobState previous,
                                              absl::Time now, std::optional<bool> loop_due) {
  v1::JobEvent event;
  event.set_revision(next_revision_);
  *event.mutable_time() = ToProtoTime(now);
  *event.mutable_job() = job;
  event.set_previous_state(previous);

  kv::WriteBatch batch;
  batch.Put(jobs_, Key(kJobTag, job.id()), job.SerializeAsString());
  if (IsFinished(job.state())) {
    batch.Delete(jobs_, Key(kUnfinishedTag, job.id()));
  } else {
    batch.Put(jobs_, Key(kUnfinishedTag, job.id()), "");
  }
  if (previous == v1::JOB_STATE_UNSPECIFIED && !job.request_id().empty()) {
    batch.Put(jobs_, Key(kRequestTag, job.request_id()), job.id());
  }
  if (loop_due.has_value()) {
    if (*loop_due) {
      batch.Put(jobs_, Key(kLoopTag, job.id()), "");
    } else {
      batch.Delete(jobs_, Key(kLoopTag, job.id()));
    }
  }
  batch.Put(events_, EventKey(next_revision_), event.SerializeAsString());
  // Keeps the newest `retention_` events: each new one pushes the oldest out.
  if (next_revision_ > retention_) batch.Delete(events_, EventKey(next_revision_ - retention_));
  RETURN_IF_ERROR(store_->Write(batch, kv::SyncMode::kSync));
  ++next_revision_;
  return event;
}

absl::StatusOr<std::vector<v1::JobEvent>> JobStore::EventsAfter(int64_t after, int limit) const {
  std::vector<v1::JobEvent> events;
  RETURN_IF_ERROR(store_->Scan(events_, kv::KeyRange::Between(EventKey(after + 1), ""),
                               [&](absl::string_view, absl::string_view value) {
                                 absl::StatusOr<v1::JobEvent> event =
                                     core::ParseStored<v1::JobEvent>(value, "job event");
                                 if (event.ok()) events.push_back(*std::move(event));
                                 return static_cast<int>(events.size()) < limit;
                               }));
  return events;
}

int64_t JobStore::oldest_kept_revision() const {
  return std::max<int64_t>(1, next_revision_ - retention_);
}

}  // namespace fabrique::tower
