#include "libs/registry/registry_log.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "libs/core/status_macros.h"
#include "libs/core/stored_proto.h"
#include "libs/kv/iterator.h"
#include "libs/kv/key_codec.h"
#include "libs/kv/key_range.h"

namespace fabrique::registry {
namespace {

std::string AuditKey(int64_t sequence) {
  return kv::KeyBuilder().AddString("a").AddInt64(sequence).key();
}
std::string EventKey(int64_t revision) {
  return kv::KeyBuilder().AddString("w").AddInt64(revision).key();
}
std::string Prefix(absl::string_view tag) { return kv::KeyBuilder().AddString(tag).key(); }

// Keys from `first` to the end of `tag`'s records.
kv::KeyRange From(absl::string_view tag, const std::string& first) {
  return kv::KeyRange::Between(first, kv::KeyRange::Prefix(Prefix(tag)).end);
}

template <typename Message>
absl::StatusOr<Message> Parse(absl::string_view bytes, absl::string_view what) {
  return core::ParseStored<Message>(bytes, what);
}

}  // namespace

absl::StatusOr<std::unique_ptr<RegistryLog>> RegistryLog::Create(Options options) {
  if (options.store == nullptr) {
    return absl::InvalidArgumentError("RegistryLog::Options.store is required");
  }
  if (options.clock == nullptr) options.clock = core::Clock::Real();
  absl::StatusOr<kv::ColumnFamily> family = options.store->Family(options.family);
  if (absl::IsNotFound(family.status())) family = options.store->CreateFamily(options.family);
  if (!family.ok()) return family.status();
  std::unique_ptr<RegistryLog> log(new RegistryLog(std::move(options), *family));
  RETURN_IF_ERROR(log->LoadHeads());
  return log;
}

// The heads come from the last audit entry alone: it carries the sequence, the hash and the
// revision its mutation reached, so start-up reads one record whatever the log's length.
absl::Status RegistryLog::LoadHeads() {
  ASSIGN_OR_RETURN(std::unique_ptr<kv::Iterator> it,
                   options_.store->NewIterator(family_, kv::KeyRange::Prefix(Prefix("a"))));
  it->SeekToLast();
  RETURN_IF_ERROR(it->status());
  if (!it->Valid()) return absl::OkStatus();
  ASSIGN_OR_RETURN(v1::AuditEntry entry, Parse<v1::AuditEntry>(it->value(), "audit entry"));
  absl::MutexLock lock(&mu_);
  sequence_ = entry.sequence();
  head_hash_ = entry.hash();
  revision_ = entry.revision();
  return absl::OkStatus();
}

absl::StatusOr<Staged> RegistryLog::Stage(Mutation mutation, kv::WriteBatch* batch) const {
  absl::MutexLock lock(&mu_);
  const google::protobuf::Timestamp now = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
      absl::ToUnixMicros(options_.clock->Now()));
  Staged staged;
  int64_t revision = revision_;
  for (v1::WatchEvent& event : mutation.events) {
    event.set_revision(++revision);
    *event.mutable_time() = now;
    *event.mutable_actor() = mutation.actor;
    batch->Put(family_, EventKey(revision), event.SerializeAsString());
  }
  staged.last_revision = revision;
  v1::AuditEntry& entry = staged.entry;
  entry.set_sequence(sequence_ + 1);
  *entry.mutable_time() = now;
  *entry.mutable_actor() = std::move(mutation.actor);
  entry.set_action(std::move(mutation.action));
  entry.set_target(std::move(mutation.target));
  entry.set_before_json(std::move(mutation.before_json));
  entry.set_after_json(std::move(mutation.after_json));
  entry.set_reason(std::move(mutation.reason));
  entry.set_revision(revision);
  SealAuditEntry(&entry, head_hash_);
  batch->Put(family_, AuditKey(entry.sequence()), entry.SerializeAsString());
  return staged;
}

void RegistryLog::Advance(const Staged& staged) {
  absl::MutexLock lock(&mu_);
  sequence_ = staged.entry.sequence();
  head_hash_ = staged.entry.hash();
  revision_ = staged.last_revision;
}

int64_t RegistryLog::revision() const {
  absl::MutexLock lock(&mu_);
  return revision_;
}

int64_t RegistryLog::WaitForRevisionAfter(int64_t after, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  const auto passed = [this, after]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return revision_ > after || interrupted_;
  };
  ++waiters_;
  mu_.AwaitWithTimeout(absl::Condition(&passed), timeout);
  --waiters_;
  return revision_;
}

int RegistryLog::waiters() const {
  absl::MutexLock lock(&mu_);
  return waiters_;
}

void RegistryLog::Interrupt() {
  absl::MutexLock lock(&mu_);
  interrupted_ = true;
}

bool RegistryLog::interrupted() const {
  absl::MutexLock lock(&mu_);
  return interrupted_;
}

absl::Status RegistryLog::EventsAfter(int64_t after, int64_t limit,
                                      absl::FunctionRef<bool(const v1::WatchEvent&)> visit) const {
  if (after == std::numeric_limits<int64_t>::max()) return absl::OkStatus();
  return ScanRecords<v1::WatchEvent>(From("w", EventKey(after + 1)), "watch event", limit, visit);
}

absl::Status RegistryLog::AuditEntries(int64_t start, int64_t limit,
                                       absl::FunctionRef<bool(const v1::AuditEntry&)> visit) const {
  return ScanRecords<v1::AuditEntry>(From("a", AuditKey(std::max<int64_t>(start, 1))),
                                     "audit entry", limit, visit);
}

template <typename Message>
absl::Status RegistryLog::ScanRecords(const kv::KeyRange& range, absl::string_view what,
                                      int64_t limit,
                                      absl::FunctionRef<bool(const Message&)> visit) const {
  int64_t seen = 0;
  absl::Status parsed;
  RETURN_IF_ERROR(
      options_.store->Scan(family_, range, [&](absl::string_view, absl::string_view value) {
        absl::StatusOr<Message> record = Parse<Message>(value, what);
        if (!record.ok()) {
          parsed = record.status();
          return false;
        }
        return visit(*record) && (limit <= 0 || ++seen < limit);
      }));
  return parsed;
}

absl::StatusOr<AuditChainResult> RegistryLog::VerifyAudit(int64_t start, int64_t end) const {
  start = std::max<int64_t>(start, 1);
  std::string prev_hash;
  if (start > 1) {
    // Mid-chain: the link into the range is the hash the entry before it recorded.
    absl::StatusOr<std::string> before = options_.store->Get(family_, AuditKey(start - 1));
    if (!before.ok()) return before.status();
    ASSIGN_OR_RETURN(v1::AuditEntry entry, Parse<v1::AuditEntry>(*before, "audit entry"));
    prev_hash = entry.hash();
  }
  AuditChainVerifier verifier(prev_hash, start - 1);
  RETURN_IF_ERROR(AuditEntries(start, 0, [&](const v1::AuditEntry& entry) {
    if (end > 0 && entry.sequence() > end) return false;
    return verifier.Add(entry);
  }));
  return verifier.result();
}

}  // namespace fabrique::registry
