#ifndef FABRIQUE_LIBS_SERVER_ACCESS_SERVICE_H_
#define FABRIQUE_LIBS_SERVER_ACCESS_SERVICE_H_

// fabrique.v1.Access, served by every binary: `fabrique auth whoami` and `fabrique auth can-i`
// ask the server itself how it sees the caller, as `kubectl auth can-i` does.

#include "fabrique/v1/access.grpc.pb.h"
#include "libs/server/access.h"

namespace fabrique::server {

class AccessService final : public v1::Access::Service {
 public:
  explicit AccessService(const Access* access) : access_(access) {}

  grpc::Status WhoAmI(grpc::ServerContext* context, const v1::WhoAmIRequest* request,
                      v1::WhoAmIResponse* response) override;
  grpc::Status CanI(grpc::ServerContext* context, const v1::CanIRequest* request,
                    v1::CanIResponse* response) override;

 private:
  const Access* access_;
};

}  // namespace fabrique::server

#endif  // FABRIQUE_LIBS_SERVER_ACCESS_SERVICE_H_
