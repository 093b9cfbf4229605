#include "libs/server/access_wiring.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fabrique/v1/access.grpc.pb.h"
#include "libs/core/status_macros.h"
#include "prometheus/client_metric.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace fabrique::server {
namespace {

// The policy's reload counters and the token verifier's JWKS reload failures, read at each
// scrape.
class ReloadMetrics : public prometheus::Collectable {
 public:
  ReloadMetrics(std::string service, const auth::PolicyStore* policy,
                const auth::JwtVerifier* tokens)
      : service_(std::move(service)), policy_(policy), tokens_(tokens) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> families;
    families.push_back(Counter("policy_reloads_total", "Policy file changes loaded.",
                               static_cast<double>(policy_->reloads())));
    families.push_back(Counter("policy_reload_failures_total",
                               "Policy file changes refused (a syntax error); the policy in force "
                               "was kept.",
                               static_cast<double>(policy_->reload_failures())));
    families.push_back(Counter("jwks_reload_failures_total",
                               "JWKS file changes refused; the keys in force were kept.",
                               static_cast<double>(tokens_->jwks_reload_failures())));
    return families;
  }

 private:
  prometheus::MetricFamily Counter(const char* name, const char* help, double value) const {
    prometheus::MetricFamily family;
    family.name = absl::StrCat("fabrique_", service_, "_", name);
    family.help = help;
    family.type = prometheus::MetricType::Counter;
    prometheus::ClientMetric metric;
    metric.counter.value = value;
    family.metric.push_back(std::move(metric));
    return family;
  }

  std::string service_;
  const auth::PolicyStore* policy_;
  const auth::JwtVerifier* tokens_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<AccessRuntime>> ServeAccess(const ServiceFlags& flags,
                                                           ServiceHost* host) {
  auto runtime = std::unique_ptr<AccessRuntime>(new AccessRuntime());
  AccessOptions options;
  options.service_name = std::string(flags.info->name);
  options.metrics = &host->metrics();
  options.insecure = flags.insecure;
  if (!flags.insecure) {
    if (flags.auth.jwks_path.empty() || flags.auth.policy_path.empty()) {
      return absl::InvalidArgumentError(
          "pass --jwks (your OIDC provider's token signing keys) and --policy (the RBAC policy, "
          "CSV or YAML); 'fabrique up' makes both under DATA_DIR/auth for a laptop");
    }
    auth::JwtVerifierOptions tokens;
    tokens.jwks_path = flags.auth.jwks_path;
    tokens.issuer = flags.auth.token_issuer;
    tokens.audience = flags.auth.token_audience;
    ASSIGN_OR_RETURN(runtime->tokens_, auth::JwtVerifier::Create(std::move(tokens)));
    auth::PolicyStore::Options policy;
    policy.path = flags.auth.policy_path;
    ASSIGN_OR_RETURN(runtime->policy_, auth::PolicyStore::Create(std::move(policy)));
    options.tokens = runtime->tokens_.get();
    options.policy = runtime->policy_.get();
    runtime->reload_metrics_ = std::make_shared<ReloadMetrics>(
        options.service_name, runtime->policy_.get(), runtime->tokens_.get());
    host->AddCollectable(runtime->reload_metrics_);
    if (!flags.bindings_target.empty()) {
      BindingsFollowerOptions follow;
      follow.service_name = options.service_name;
      follow.policy = runtime->policy_.get();
      if (!flags.data_dir.empty()) follow.cache_path = flags.data_dir + "/auth/tower_bindings.pb";
      ASSIGN_OR_RETURN(follow.channel,
                       client::MakeChannel(flags.PeerChannel(flags.bindings_target)));
      ASSIGN_OR_RETURN(runtime->bindings_,
                       BindingsFollower::Start(std::move(follow), &host->metrics()));
    }
  }
  ASSIGN_OR_RETURN(runtime->access_, Access::Create(std::move(options)));
  runtime->service_ = std::make_unique<AccessService>(runtime->access_.get());
  host->AddService(runtime->service_.get(), v1::Access::service_full_name(), "");
  return runtime;
}

}  // namespace fabrique::server
