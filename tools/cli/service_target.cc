#include "tools/cli/service_target.h"

#include "absl/strings/str_cat.h"
#include "tools/cli/endpoints_file.h"

namespace fabrique::cli {

client::CallTarget CallTargetOf(const ServiceTarget& target) {
  return client::CallTarget{target.service, target.address,
                            target.data_dir.empty() ? "" : EndpointsPath(target.data_dir),
                            UnreachableAdvice(target.data_dir)};
}

std::string UnreachableMessage(const ServiceTarget& target, absl::string_view detail) {
  return client::UnreachableMessage(CallTargetOf(target), detail);
}

std::string UnreachableAdvice(const std::string& data_dir) {
  if (!data_dir.empty()) {
    return absl::StrCat("Is 'fabrique up --data_dir ", data_dir,
                        "' still running? Start it again, or pass --target HOST:PORT");
  }
  return "Is 'fabrique up' running? Start it, or pass --data_dir DIR (the folder 'fabrique up' "
         "runs on, where it writes endpoints.tsv) or --target HOST:PORT";
}

}  // namespace fabrique::cli
