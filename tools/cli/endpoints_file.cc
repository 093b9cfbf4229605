#include "tools/cli/endpoints_file.h"

#include <cstdio>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace fabrique::cli {

std::string EndpointsPath(const std::string& data_dir) {
  return absl::StrCat(data_dir, "/endpoints.tsv");
}

absl::Status WriteEndpoints(const std::string& data_dir, const std::vector<Endpoint>& endpoints) {
  // Written to a temporary name and renamed, so a reader never sees half a file.
  const std::string path = EndpointsPath(data_dir);
  const std::string tmp = absl::StrCat(path, ".tmp");
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (const Endpoint& e : endpoints) {
      out << e.name << '\t' << e.grpc_address << '\t' << e.metrics_port << '\t' << e.pid << '\n';
    }
    if (!out.good()) return absl::UnavailableError(absl::StrCat("cannot write ", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot rename ", tmp, " to ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Endpoint>> ReadEndpoints(const std::string& data_dir) {
  const std::string path = EndpointsPath(data_dir);
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("no ", path, ": is 'fabrique up --data_dir ", data_dir, "' running?"));
  }
  std::vector<Endpoint> endpoints;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> fields = absl::StrSplit(line, '\t');
    Endpoint e;
    if (fields.size() != 4 || !absl::SimpleAtoi(fields[2], &e.metrics_port) ||
        !absl::SimpleAtoi(fields[3], &e.pid)) {
      return absl::DataLossError(absl::StrCat(path, " has a malformed line: '", line, "'"));
    }
    e.name = fields[0];
    e.grpc_address = fields[1];
    endpoints.push_back(std::move(e));
  }
  return endpoints;
}

}  // namespace fabrique::cli
