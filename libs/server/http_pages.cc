#include "libs/server/http_pages.h"

#include <exception>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "civetweb.h"

namespace fabrique::server {
namespace {

// Which pages each listening port serves.
absl::Mutex ports_mu(absl::kConstInit);
std::map<int, const HttpPages*>& Ports() ABSL_EXCLUSIVE_LOCKS_REQUIRED(ports_mu) {
  static auto* const ports = new std::map<int, const HttpPages*>();
  return *ports;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void Send(mg_connection* connection, const HttpRequest& request, const HttpResponse& response) {
  std::string head = "HTTP/1.1 " + std::to_string(response.status) + " " +
                     mg_get_response_code_text(connection, response.status) +
                     "\r\nContent-Type: " + response.content_type +
                     "\r\nContent-Length: " + std::to_string(response.body.size()) +
                     "\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n";
  for (const auto& [name, value] : response.headers) head += name + ": " + value + "\r\n";
  head += "\r\n";
  mg_write(connection, head.data(), head.size());
  if (request.method != "HEAD") mg_write(connection, response.body.data(), response.body.size());
}

}  // namespace

std::string DecodeQueryComponent(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
               HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string HttpRequest::Param(absl::string_view name) const {
  for (absl::string_view pair : absl::StrSplit(query, '&')) {
    const std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(pair, '=');
    if (DecodeQueryComponent(kv.first) == name) return DecodeQueryComponent(kv.second);
  }
  return "";
}

bool HttpRequest::HasParam(absl::string_view name) const {
  for (absl::string_view pair : absl::StrSplit(query, '&')) {
    const std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(pair, '=');
    if (DecodeQueryComponent(kv.first) == name) return true;
  }
  return false;
}

void HttpPages::Add(std::string prefix, HttpHandler handler) {
  absl::MutexLock lock(&mu_);
  pages_.emplace_back(std::move(prefix), std::move(handler));
}

bool HttpPages::empty() const {
  absl::MutexLock lock(&mu_);
  return pages_.empty();
}

bool HttpPages::Serve(const HttpRequest& request, HttpResponse* response) const {
  const HttpHandler* handler = nullptr;
  {
    absl::MutexLock lock(&mu_);
    size_t longest = 0;
    for (const auto& [prefix, page] : pages_) {
      if (absl::StartsWith(request.path, prefix) && prefix.size() >= longest) {
        longest = prefix.size();
        handler = &page;
      }
    }
  }
  if (handler == nullptr) return false;
  if (request.method != "GET" && request.method != "HEAD") {
    *response = {405,
                 "text/plain; charset=utf-8",
                 "only GET and HEAD are served here\n",
                 {{"Allow", "GET, HEAD"}}};
    return true;
  }
  try {
    *response = (*handler)(request);
  } catch (const std::exception& e) {
    *response = {500, "text/plain; charset=utf-8", std::string("internal error: ") + e.what()};
  }
  return true;
}

void HttpPages::Attach(int port) {
  absl::MutexLock lock(&ports_mu);
  Ports()[port] = this;
}

void HttpPages::Detach(int port) {
  absl::MutexLock lock(&ports_mu);
  Ports().erase(port);
}

int HttpPages::BeginRequest(mg_connection* connection) {
  const mg_request_info* info = mg_get_request_info(connection);
  if (info == nullptr || info->local_uri == nullptr) return 0;
  HttpRequest request;
  request.method = info->request_method != nullptr ? info->request_method : "";
  request.path = info->local_uri;
  request.query = info->query_string != nullptr ? info->query_string : "";
  const char* authorization = mg_get_header(connection, "Authorization");
  request.authorization = authorization != nullptr ? authorization : "";
  const HttpPages* pages = nullptr;
  {
    absl::MutexLock lock(&ports_mu);
    auto it = Ports().find(info->server_port);
    if (it == Ports().end()) return 0;
    pages = it->second;
  }
  // The pages outlive every request: their host detaches them only after the exposer, whose
  // threads run this, has stopped.
  HttpResponse response;
  if (!pages->Serve(request, &response)) return 0;
  Send(connection, request, response);
  return response.status;
}

}  // namespace fabrique::server
