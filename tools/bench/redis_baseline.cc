#include "tools/bench/redis_baseline.h"

#include <hiredis/hiredis.h>
#include <signal.h>

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tools/bench/bench_support.h"

namespace fabrique::bench {
namespace {

constexpr char kTimeField[] = "_ts";

// Frees a hiredis reply when it goes out of scope.
struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

absl::Status ContextError(const redisContext* context, absl::string_view what) {
  return absl::UnavailableError(
      absl::StrCat(what, ": ", context == nullptr ? "out of memory" : context->errstr));
}

absl::StatusOr<redisContext*> ConnectOnce(int port, absl::Duration timeout) {
  const timeval tv = absl::ToTimeval(timeout);
  redisContext* context = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (context == nullptr || context->err != 0) {
    absl::Status error = ContextError(context, absl::StrCat("connecting to redis on port ", port));
    if (context != nullptr) redisFree(context);
    return error;
  }
  return context;
}

// Sends one command and returns its reply; a Redis error reply is an error.
absl::StatusOr<Reply> Command(redisContext* context, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  Reply reply(static_cast<redisReply*>(
      redisCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lengths.data())));
  if (reply == nullptr) return ContextError(context, args[0]);
  if (reply->type == REDIS_REPLY_ERROR) {
    return absl::InternalError(absl::StrCat(args[0], ": ", reply->str));
  }
  return reply;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::Start(
    const std::string& binary, const std::string& dir, const std::vector<std::string>& extra_flags,
    absl::Duration timeout) {
  absl::StatusOr<int> port = FreeLoopbackPort();
  if (!port.ok()) return port.status();
  // No snapshots and no append-only file: Redis holds the data in memory only, its fastest mode.
  std::vector<std::string> argv = {binary,
                                   "--port",
                                   std::to_string(*port),
                                   "--bind",
                                   "127.0.0.1",
                                   "--save",
                                   "",
                                   "--appendonly",
                                   "no",
                                   "--dir",
                                   dir,
                                   "--daemonize",
                                   "no",
                                   "--databases",
                                   "1"};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  absl::StatusOr<std::unique_ptr<cli::ChildProcess>> process =
      cli::ChildProcess::Spawn(argv, dir + "/redis.log");
  if (!process.ok()) return process.status();
  std::unique_ptr<RedisServer> server(new RedisServer(*std::move(process), *port));
  const absl::Time deadline = absl::Now() + timeout;
  absl::Status last = absl::DeadlineExceededError("redis-server did not answer");
  while (absl::Now() < deadline) {
    if (server->process_->Poll().has_value()) {
      return absl::InternalError(
          absl::StrCat("redis-server exited at start: ", cli::TailFile(dir + "/redis.log", 5)));
    }
    absl::StatusOr<redisContext*> context = ConnectOnce(*port, absl::Seconds(1));
    if (context.ok()) {
      absl::StatusOr<Reply> pong = Command(*context, {"PING"});
      redisFree(*context);
      if (pong.ok()) return server;
      last = pong.status();
    } else {
      last = context.status();
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("redis-server on port ", *port, " not ready: ", last.message()));
}

RedisServer::~RedisServer() {
  // SHUTDOWN NOSAVE closes the connection instead of replying, so no reply is expected.
  absl::StatusOr<redisContext*> context = ConnectOnce(port_, absl::Seconds(1));
  if (context.ok()) {
    redisReply* reply = static_cast<redisReply*>(redisCommand(*context, "SHUTDOWN NOSAVE"));
    if (reply != nullptr) freeReplyObject(reply);
    redisFree(*context);
  } else {
    process_->Signal(SIGTERM);
  }
  process_->Wait(absl::Seconds(5));  // The ChildProcess destructor SIGKILLs what is left.
}

RedisFeatureClient::RedisFeatureClient(redisContext* context, std::string group,
                                       std::vector<std::string> features)
    : context_(context), group_(std::move(group)), features_(std::move(features)) {
  hmget_argv_ = {"HMGET", nullptr};
  hmget_lengths_ = {5, 0};
  for (const std::string& feature : features_) {
    hmget_argv_.push_back(feature.data());
    hmget_lengths_.push_back(feature.size());
  }
  hmget_argv_.push_back(kTimeField);
  hmget_lengths_.push_back(sizeof(kTimeField) - 1);
}

RedisFeatureClient::~RedisFeatureClient() { redisFree(context_); }

absl::StatusOr<std::unique_ptr<RedisFeatureClient>> RedisFeatureClient::Connect(
    int port, std::string group, std::vector<std::string> features, absl::Duration timeout) {
  absl::StatusOr<redisContext*> context = ConnectOnce(port, timeout);
  if (!context.ok()) return context.status();
  return std::unique_ptr<RedisFeatureClient>(
      new RedisFeatureClient(*context, std::move(group), std::move(features)));
}

absl::Status RedisFeatureClient::DrainReplies(int commands) {
  absl::Status first = absl::OkStatus();
  for (int i = 0; i < commands; ++i) {
    void* raw = nullptr;
    if (redisGetReply(context_, &raw) != REDIS_OK) return ContextError(context_, "reading reply");
    Reply reply(static_cast<redisReply*>(raw));
    if (reply->type == REDIS_REPLY_ERROR && first.ok()) {
      first = absl::InternalError(absl::StrCat("redis: ", reply->str));
    }
  }
  return first;
}

absl::Status RedisFeatureClient::Store(absl::Span<const std::string> entity_keys,
                                       absl::Span<const float> values, int64_t event_time_micros) {
  const size_t width = features_.size();
  if (values.size() != entity_keys.size() * width) {
    return absl::InvalidArgumentError("values must hold one row of features per entity key");
  }
  // Pipelines of 1000 commands: large enough to hide the round trip, small enough to bound the
  // client's and the server's buffers.
  constexpr int kPipeline = 1000;
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  int pending = 0;
  for (size_t r = 0; r < entity_keys.size(); ++r) {
    const std::string key = absl::StrCat(group_, ":", entity_keys[r]);
    argv = {"HSET", key.data()};
    lengths = {4, key.size()};
    for (size_t f = 0; f < width; ++f) {
      argv.push_back(features_[f].data());
      lengths.push_back(features_[f].size());
      argv.push_back(reinterpret_cast<const char*>(&values[r * width + f]));
      lengths.push_back(sizeof(float));
    }
    argv.push_back(kTimeField);
    lengths.push_back(sizeof(kTimeField) - 1);
    argv.push_back(reinterpret_cast<const char*>(&event_time_micros));
    lengths.push_back(sizeof(event_time_micros));
    // hiredis copies the arguments into its output buffer, so `key` may go away after this.
    if (redisAppendCommandArgv(context_, static_cast<int>(argv.size()), argv.data(),
                               lengths.data()) != REDIS_OK) {
      return ContextError(context_, "HSET");
    }
    if (++pending == kPipeline) {
      if (absl::Status s = DrainReplies(pending); !s.ok()) return s;
      pending = 0;
    }
  }
  return DrainReplies(pending);
}

absl::Status RedisFeatureClient::Lookup(absl::Span<const std::string* const> entity_keys,
                                        std::vector<float>* values, std::vector<int64_t>* times) {
  const size_t width = features_.size();
  const size_t n = entity_keys.size();
  values->resize(n * width);
  times->resize(n);
  key_buffer_.resize(n);
  for (size_t r = 0; r < n; ++r) {
    std::string& key = key_buffer_[r];
    key.assign(group_);
    key.push_back(':');
    key.append(*entity_keys[r]);
    hmget_argv_[1] = key.data();
    hmget_lengths_[1] = key.size();
    if (redisAppendCommandArgv(context_, static_cast<int>(hmget_argv_.size()), hmget_argv_.data(),
                               hmget_lengths_.data()) != REDIS_OK) {
      return ContextError(context_, "HMGET");
    }
  }
  for (size_t r = 0; r < n; ++r) {
    void* raw = nullptr;
    if (redisGetReply(context_, &raw) != REDIS_OK) return ContextError(context_, "HMGET reply");
    Reply reply(static_cast<redisReply*>(raw));
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != width + 1) {
      return absl::InternalError(absl::StrCat("HMGET ", key_buffer_[r], ": unexpected reply"));
    }
    for (size_t f = 0; f <= width; ++f) {
      const redisReply* field = reply->element[f];
      const size_t expected = f < width ? sizeof(float) : sizeof(int64_t);
      if (field->type != REDIS_REPLY_STRING || field->len != expected) {
        return absl::NotFoundError(
            absl::StrCat("HMGET ", key_buffer_[r], ": field ", f, " missing or malformed"));
      }
      if (f < width) {
        std::memcpy(&(*values)[r * width + f], field->str, sizeof(float));
      } else {
        std::memcpy(&(*times)[r], field->str, sizeof(int64_t));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> RedisFeatureClient::KeyCount() {
  absl::StatusOr<Reply> reply = Command(context_, {"DBSIZE"});
  if (!reply.ok()) return reply.status();
  return static_cast<int64_t>((*reply)->integer);
}

}  // namespace fabrique::bench
