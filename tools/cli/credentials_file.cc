#include "tools/cli/credentials_file.h"

#include <cstdlib>
#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/core/file_io.h"
#include "yaml-cpp/yaml.h"

namespace fabrique::cli {
namespace {

// Refuses keys of `node` (a map) that are not in `known`, naming the first.
absl::Status CheckKeys(const YAML::Node& node, const std::set<std::string>& known,
                       const std::string& where) {
  for (const auto& entry : node) {
    const std::string key = entry.first.as<std::string>();
    if (known.count(key) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": unknown key '", key, "' (expected ",
                                                     absl::StrJoin(known, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

// Reads `ca`, `token` and `targets` of one context's map into `out`.
absl::Status ReadContext(const YAML::Node& node, const std::string& where,
                         CredentialsContext* out) {
  if (!node.IsMap()) return absl::InvalidArgumentError(absl::StrCat(where, ": expected a map"));
  if (absl::Status keys = CheckKeys(node, {"ca", "token", "targets"}, where); !keys.ok()) {
    return keys;
  }
  if (node["ca"]) {
    std::filesystem::path ca = node["ca"].as<std::string>();
    out->ca = ca.is_absolute() || ca.empty()
                  ? ca.string()
                  : (std::filesystem::path(out->path).parent_path() / ca).string();
  }
  if (node["token"]) out->token = node["token"].as<std::string>();
  if (const YAML::Node targets = node["targets"]; targets) {
    if (!targets.IsMap()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": 'targets' maps service names to host:port"));
    }
    for (const auto& target : targets) {
      out->targets[target.first.as<std::string>()] = target.second.as<std::string>();
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<CredentialsContext> ParseYaml(const YAML::Node& root, const std::string& path,
                                             const std::string& context) {
  CredentialsContext out;
  out.path = path;
  if (!root.IsMap()) return absl::InvalidArgumentError(absl::StrCat(path, ": expected a map"));
  if (!root["contexts"]) {
    if (!context.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, " has no contexts, so no context '", context, "'"));
    }
    if (absl::Status read = ReadContext(root, path, &out); !read.ok()) return read;
    return out;
  }
  if (absl::Status keys = CheckKeys(root, {"current-context", "contexts"}, path); !keys.ok()) {
    return keys;
  }
  out.name = context;
  if (out.name.empty() && root["current-context"]) {
    out.name = root["current-context"].as<std::string>();
  }
  if (out.name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, " names no current-context: add one, or set FABRIQUE_CONTEXT to a context's name"));
  }
  const YAML::Node contexts = root["contexts"];
  if (!contexts.IsMap() || !contexts[out.name]) {
    return absl::InvalidArgumentError(absl::StrCat(path, " has no context '", out.name, "'"));
  }
  if (absl::Status read =
          ReadContext(contexts[out.name], absl::StrCat(path, ": context '", out.name, "'"), &out);
      !read.ok()) {
    return read;
  }
  return out;
}

}  // namespace

Getenv ProcessEnvironment() {
  return [](const char* name) {
    const char* value = std::getenv(name);
    return std::string(value == nullptr ? "" : value);
  };
}

std::string CredentialsContext::Origin() const {
  return name.empty() ? absl::StrCat("credentials file ", path)
                      : absl::StrCat("credentials file ", path, " (context ", name, ")");
}

std::string CredentialsFilePath(const Getenv& getenv) {
  if (std::string explicit_path = getenv("FABRIQUE_CONFIG"); !explicit_path.empty()) {
    return explicit_path;
  }
  if (std::string xdg = getenv("XDG_CONFIG_HOME"); !xdg.empty()) {
    return absl::StrCat(xdg, "/fabrique/credentials");
  }
  if (std::string home = getenv("HOME"); !home.empty()) {
    return absl::StrCat(home, "/.config/fabrique/credentials");
  }
  return "";
}

absl::StatusOr<CredentialsContext> ParseCredentials(absl::string_view text, const std::string& path,
                                                    const std::string& context) {
  try {
    return ParseYaml(YAML::Load(std::string(text)), path, context);
  } catch (const YAML::Exception& e) {
    // The mark is 0-based; people count lines from 1.
    return absl::InvalidArgumentError(e.mark.is_null()
                                          ? absl::StrCat(path, ": ", e.msg)
                                          : absl::StrCat(path, ":", e.mark.line + 1, ": ", e.msg));
  }
}

absl::StatusOr<std::optional<CredentialsContext>> LoadCredentials(const Getenv& getenv) {
  const std::string path = CredentialsFilePath(getenv);
  if (path.empty()) return std::nullopt;
  absl::StatusOr<std::string> text = core::ReadSmallFile(path);
  // A file named on purpose must be there; the default one is optional.
  if (absl::IsNotFound(text.status()) && getenv("FABRIQUE_CONFIG").empty()) return std::nullopt;
  if (!text.ok()) return text.status();
  absl::StatusOr<CredentialsContext> context =
      ParseCredentials(*text, path, getenv("FABRIQUE_CONTEXT"));
  if (!context.ok()) return context.status();
  return *std::move(context);
}

}  // namespace fabrique::cli
