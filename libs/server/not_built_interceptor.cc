#include "libs/server/not_built_interceptor.h"

#include "absl/strings/str_cat.h"

namespace fabrique::server {
namespace {

using grpc::experimental::InterceptionHookPoints;

class NotBuiltInterceptor : public grpc::experimental::Interceptor {
 public:
  NotBuiltInterceptor(std::string method, const std::string* area)
      : method_(std::move(method)), area_(area) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (area_ != nullptr &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      // Only the generated default (UNIMPLEMENTED, empty message) is rewritten; a handler's own
      // UNIMPLEMENTED with a message is left as it is.
      if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED &&
          status.error_message().empty()) {
        methods->ModifySendStatus(
            grpc::Status(grpc::StatusCode::UNIMPLEMENTED, NotBuiltMessage(method_, *area_)));
      }
    }
    methods->Proceed();
  }

 private:
  std::string method_;
  const std::string* area_;  // Owned by the factory; nullptr for services with no area.
};

class NotBuiltInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit NotBuiltInterceptorFactory(std::map<std::string, std::string> areas)
      : areas_(std::move(areas)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    std::string method = info->method() != nullptr ? info->method() : "";
    const std::string* area = nullptr;
    // "/fabrique.v1.FeatureStore/Ingest" -> "fabrique.v1.FeatureStore".
    const size_t slash = method.find('/', 1);
    if (slash != std::string::npos) {
      auto it = areas_.find(method.substr(1, slash - 1));
      if (it != areas_.end()) area = &it->second;
    }
    return new NotBuiltInterceptor(std::move(method), area);
  }

 private:
  const std::map<std::string, std::string> areas_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeNotBuiltInterceptor(
    std::map<std::string, std::string> areas) {
  return std::make_unique<NotBuiltInterceptorFactory>(std::move(areas));
}

std::string NotBuiltMessage(const std::string& full_method, const std::string& area) {
  return absl::StrCat(
      full_method, " is not built yet: it is part of ", area,
      ", whose calls are being built. The API is published so clients can be written against it.");
}

}  // namespace fabrique::server
