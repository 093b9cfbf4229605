#ifndef FABRIQUE_LIBS_SERVER_HTTP_PAGES_H_
#define FABRIQUE_LIBS_SERVER_HTTP_PAGES_H_

// Pages a service serves on its metrics port beside /metrics, e.g. the monitor's report at
// /reports/MODEL. The port is prometheus-cpp's exposer (CivetWeb underneath); a page is a handler
// for every path under a prefix, asked through CivetWeb's begin_request hook, so /metrics is
// served as before and nothing else about the port changes.
//
//   host->AddHttpPage("/reports/", [&](const HttpRequest& request) {
//     return HttpResponse{200, "text/html; charset=utf-8", RenderPage(request.path)};
//   });
//
// Handlers run on the exposer's threads (two) and should answer in seconds. GET and HEAD only:
// other methods get 405. The port has no TLS: pages that show a squad's data check the bearer
// token themselves (HttpRequest::authorization), as the gRPC calls do.

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

struct mg_connection;

namespace fabrique::server {

struct HttpRequest {
  std::string method;         // "GET" or "HEAD".
  std::string path;           // Decoded, e.g. "/reports/fraud".
  std::string query;          // As sent, without '?': "from=...&to=...".
  std::string authorization;  // The Authorization header; "" when none.

  // The decoded value of query parameter `name` ('+' and %XX decoded); "" when absent.
  std::string Param(absl::string_view name) const;
  bool HasParam(absl::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // Extra headers.
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// The pages of one port. Thread-safe.
class HttpPages {
 public:
  // Serves every path that starts with `prefix` (e.g. "/reports/") with `handler`; the longest
  // matching prefix wins.
  void Add(std::string prefix, HttpHandler handler);
  bool empty() const;

  // Answers `request` into `response` with the handler of its path; false when no page matches.
  bool Serve(const HttpRequest& request, HttpResponse* response) const;

  // Routes requests that arrive on `port` to these pages until Detach(port). CivetWeb's hook
  // has no argument of ours, so the listening port tells the pages apart.
  void Attach(int port);
  static void Detach(int port);

  // CivetWeb's begin_request hook: 0 lets CivetWeb serve the request (/metrics), 1.. means a
  // page answered (the status, for CivetWeb's log).
  static int BeginRequest(mg_connection* connection);

 private:
  mutable absl::Mutex mu_;
  std::vector<std::pair<std::string, HttpHandler>> pages_ ABSL_GUARDED_BY(mu_);
};

// Decodes '+' and %XX of a URL's query part.
std::string DecodeQueryComponent(absl::string_view text);

}  // namespace fabrique::server

#endif  // FABRIQUE_LIBS_SERVER_HTTP_PAGES_H_
