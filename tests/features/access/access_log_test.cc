#include "libs/features/access/access_log.h"

#include <atomic>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "libs/features/access/access_log_records.h"
#include "libs/kv/env.h"
#include "rocksdb/env.h"
#include "tests/util/test_util.h"

namespace fabrique::features {
namespace {

v1::PersonalDataRead Read(const std::string& subject, const std::string& group,
                          std::vector<std::string> features, int64_t entities = 1) {
  v1::PersonalDataRead read;
  read.mutable_caller()->set_subject(subject);
  read.mutable_caller()->set_squad("risk");
  read.set_call("LookupOnline");
  read.set_group(group);
  for (std::string& feature : features) read.add_features(std::move(feature));
  read.set_entity_count(entities);
  return read;
}

// An Env whose write-ahead logs refuse every append once `fail` is set, so the store's writes
// fail as on a full or broken disk.
class FailingWalEnv : public rocksdb::EnvWrapper {
 public:
  explicit FailingWalEnv(rocksdb::Env* target) : rocksdb::EnvWrapper(target) {}
  const char* Name() const override { return "FailingWalEnv"; }

  rocksdb::Status NewWritableFile(const std::string& name,
                                  std::unique_ptr<rocksdb::WritableFile>* result,
                                  const rocksdb::EnvOptions& options) override {
    rocksdb::Status status = target()->NewWritableFile(name, result, options);
    if (status.ok() && absl::EndsWith(name, ".log")) {
      *result = std::make_unique<WalFile>(std::move(*result), &fail);
    }
    return status;
  }

  std::atomic<bool> fail{false};

 private:
  class WalFile : public rocksdb::WritableFileWrapper {
   public:
    WalFile(std::unique_ptr<rocksdb::WritableFile> file, const std::atomic<bool>* fail)
        : rocksdb::WritableFileWrapper(file.get()), file_(std::move(file)), fail_(fail) {}
    rocksdb::Status Append(const rocksdb::Slice& data) override {
      if (*fail_) return rocksdb::Status::IOError("injected write failure");
      return rocksdb::WritableFileWrapper::Append(data);
    }
    rocksdb::Status Append(const rocksdb::Slice& data,
                           const rocksdb::DataVerificationInfo& info) override {
      if (*fail_) return rocksdb::Status::IOError("injected write failure");
      return rocksdb::WritableFileWrapper::Append(data, info);
    }

   private:
    std::unique_ptr<rocksdb::WritableFile> file_;
    const std::atomic<bool>* fail_;
  };
};

struct Fixture {
  core::FakeClock clock{absl::FromUnixSeconds(1'800'000'000)};
  std::unique_ptr<kv::Store> store;
  std::unique_ptr<AccessLog> log;

  explicit Fixture(const std::string& path = "", AccessLogOptions options = {},
                   rocksdb::Env* env = nullptr) {
    kv::StoreOptions store_options;
    store_options.path = path.empty() ? "/access" : path;
    store_options.in_memory = path.empty() && env == nullptr;
    store_options.env = env;
    store = *kv::Store::Open(store_options);
    options.store = store.get();
    options.clock = &clock;
    auto created = AccessLog::Create(options);
    REQUIRE(created.ok());
    log = *std::move(created);
  }

  v1::ListPersonalDataReadsResponse List(const std::string& group, const std::string& feature = "",
                                         int page_size = 0, const std::string& token = "") {
    v1::ListPersonalDataReadsRequest request;
    request.set_group(group);
    request.set_feature(feature);
    request.set_page_size(page_size);
    request.set_page_token(token);
    auto listed = log->List(request);
    INFO(listed.status().ToString());
    REQUIRE(listed.ok());
    return *std::move(listed);
  }
};

TEST_CASE("access log: entries are stamped, numbered, chained and listed per group, newest first") {
  Fixture f;
  REQUIRE(f.log->Append(Read("dana", "tx", {"email"})).ok());
  f.clock.Advance(absl::Seconds(5));
  REQUIRE(f.log->Append(Read("lou", "cards", {"pan"})).ok());
  REQUIRE(f.log->Append(Read("mia", "tx", {"email", "phone"}, 100)).ok());
  REQUIRE(f.log->Flush().ok());

  const v1::ListPersonalDataReadsResponse tx = f.List("tx");
  REQUIRE(tx.reads_size() == 2);
  CHECK(tx.next_page_token().empty());
  const v1::PersonalDataRead& newest = tx.reads(0);
  CHECK(newest.sequence() == 3);
  CHECK(newest.caller().subject() == "mia");
  CHECK(newest.entity_count() == 100);
  CHECK(newest.time().seconds() == 1'800'000'005);
  CHECK(tx.reads(1).sequence() == 1);
  CHECK(tx.reads(1).time().seconds() == 1'800'000'000);
  CHECK(tx.reads(1).prev_hash().empty());
  CHECK(tx.reads(1).hash() == PersonalDataReadHash(tx.reads(1)));
  const v1::ListPersonalDataReadsResponse cards = f.List("cards");
  REQUIRE(cards.reads_size() == 1);
  CHECK(cards.reads(0).prev_hash() == tx.reads(1).hash());
  CHECK(newest.prev_hash() == cards.reads(0).hash());

  auto verified = f.log->Verify(0, 0);
  REQUIRE(verified.ok());
  CHECK(verified->valid);
  CHECK(verified->entries_checked == 3);
  CHECK(verified->head_hash == newest.hash());
  auto middle = f.log->Verify(2, 2);
  REQUIRE(middle.ok());
  CHECK(middle->valid);
  CHECK(middle->entries_checked == 1);
}

TEST_CASE("access log: pages follow each other, and a feature filter keeps its reads") {
  Fixture f;
  for (int i = 0; i < 5; ++i) {
    REQUIRE(f.log->Append(Read("dana", "tx", {i % 2 == 0 ? "email" : "phone"})).ok());
  }
  REQUIRE(f.log->Flush().ok());
  const v1::ListPersonalDataReadsResponse first = f.List("tx", "", 2);
  REQUIRE(first.reads_size() == 2);
  CHECK(first.reads(0).sequence() == 5);
  CHECK(first.reads(1).sequence() == 4);
  REQUIRE(first.next_page_token() == "4");
  const v1::ListPersonalDataReadsResponse second = f.List("tx", "", 2, first.next_page_token());
  REQUIRE(second.reads_size() == 2);
  CHECK(second.reads(0).sequence() == 3);
  const v1::ListPersonalDataReadsResponse last = f.List("tx", "", 2, second.next_page_token());
  REQUIRE(last.reads_size() == 1);
  CHECK(last.reads(0).sequence() == 1);
  CHECK(last.next_page_token().empty());

  const v1::ListPersonalDataReadsResponse phone = f.List("tx", "phone");
  REQUIRE(phone.reads_size() == 2);
  CHECK(phone.reads(0).sequence() == 4);
  CHECK(phone.reads(1).sequence() == 2);
  CHECK(f.List("other").reads_size() == 0);

  v1::ListPersonalDataReadsRequest bad;
  bad.set_group("tx");
  bad.set_page_token("not a token");
  CHECK(f.log->List(bad).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(f.log->List({}).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("access log: a changed or removed entry breaks the chain at that entry") {
  Fixture f;
  for (const char* who : {"dana", "lou", "mia"})
    REQUIRE(f.log->Append(Read(who, "tx", {"email"})).ok());
  REQUIRE(f.log->Flush().ok());
  kv::ColumnFamily family = *f.store->Family("access_log");

  SECTION("changed") {
    v1::PersonalDataRead second;
    REQUIRE(second.ParseFromString(*f.store->Get(family, ReadKey(2))));
    second.mutable_caller()->set_subject("nobody");
    REQUIRE(f.store->Put(family, ReadKey(2), second.SerializeAsString()).ok());
    auto verified = f.log->Verify(0, 0);
    REQUIRE(verified.ok());
    CHECK_FALSE(verified->valid);
    CHECK(verified->first_bad_sequence == 2);
    CHECK(absl::StrContains(verified->detail, "changed after it was written"));
  }
  SECTION("removed") {
    REQUIRE(f.store->Delete(family, ReadKey(2)).ok());
    auto verified = f.log->Verify(0, 0);
    REQUIRE(verified.ok());
    CHECK_FALSE(verified->valid);
    CHECK(verified->first_bad_sequence == 3);
    CHECK(absl::StrContains(verified->detail, "missing or out of order"));
  }
}

TEST_CASE("access log: Close writes what is queued, and the chain goes on after a restart") {
  testing::TempDir tmp;
  std::string head;
  {
    Fixture f(tmp.Sub("kv"));
    for (int i = 0; i < 50; ++i) REQUIRE(f.log->Append(Read("dana", "tx", {"email"})).ok());
    REQUIRE(f.log->Close().ok());  // No Flush: Close drains the queue.
    CHECK(f.log->Append(Read("dana", "tx", {"email"})).code() == absl::StatusCode::kUnavailable);
    auto verified = f.log->Verify(0, 0);
    REQUIRE(verified.ok());
    CHECK(verified->entries_checked == 50);
    head = verified->head_hash;
  }
  Fixture f(tmp.Sub("kv"));
  REQUIRE(f.log->Append(Read("lou", "tx", {"email"})).ok());
  REQUIRE(f.log->Flush().ok());
  const v1::ListPersonalDataReadsResponse listed = f.List("tx", "", 1);
  REQUIRE(listed.reads_size() == 1);
  CHECK(listed.reads(0).sequence() == 51);
  CHECK(listed.reads(0).prev_hash() == head);
  auto verified = f.log->Verify(0, 0);
  REQUIRE(verified.ok());
  CHECK(verified->valid);
  CHECK(verified->entries_checked == 51);
}

TEST_CASE("access log: a log that cannot write refuses once its queue is full, and says so") {
  AccessLogOptions options;
  options.max_queued = 1;
  options.max_batch = 1;
  std::unique_ptr<rocksdb::Env> memory = kv::NewInMemoryEnv();
  FailingWalEnv env(memory.get());
  Fixture f("/access", options, &env);
  env.fail = true;  // Every write fails from now on.
  // The writer holds at most one entry and the queue one more: the third cannot be taken.
  f.log->Append(Read("dana", "tx", {"email"})).IgnoreError();
  f.log->Append(Read("dana", "tx", {"email"})).IgnoreError();
  const absl::Status refused = f.log->Append(Read("dana", "tx", {"email"}));
  CHECK(refused.code() == absl::StatusCode::kUnavailable);
  CHECK(absl::StrContains(refused.message(), "refused"));
  const absl::Status flushed = f.log->Flush();
  INFO(flushed.ToString());
  CHECK_FALSE(flushed.ok());
  CHECK(absl::StrContains(flushed.message(), "injected"));
  const absl::Status closed = f.log->Close();
  CHECK(closed.code() == absl::StatusCode::kDataLoss);
  CHECK(absl::StrContains(closed.message(), "not recorded"));
}

TEST_CASE("access log: options out of bounds are refused") {
  kv::StoreOptions store_options;
  store_options.path = "/access";
  store_options.in_memory = true;
  auto store = *kv::Store::Open(store_options);
  CHECK(AccessLog::Create({}).status().code() == absl::StatusCode::kInvalidArgument);
  AccessLogOptions options;
  options.store = store.get();
  options.max_queued = 0;
  CHECK(AccessLog::Create(options).status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fabrique::features
