#ifndef FABRIQUE_SERVICES_FEATURES_PERSONAL_DATA_H_
#define FABRIQUE_SERVICES_FEATURES_PERSONAL_DATA_H_

// Reads of personal data through the feature store's adapter. Reading a feature classified
// PERSONAL_DATA takes features.personal.read in its group's squad on top of the call's own
// permission; each read allowed is counted per caller in
// fabrique_features_personal_data_reads_total{caller} and recorded in the access log (one entry
// per call and group) before its data leaves.
//
//   RETURN_IF_ERROR(personal.Check(*context, caller, group, features));   // per group read
//   RETURN_IF_ERROR(personal.Record(caller, "ReadHistory", reads, entity_count, ""));
//
// The counter's `caller` label is the subject, "SUBJECT via SERVICE" when a service delegates.
// Its cardinality is bounded: the first `max_callers` distinct callers (1000 by default) get
// their own series; later ones are counted together under caller="_other" (the access log
// still names each).

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "fabrique/v1/features.pb.h"
#include "grpcpp/server_context.h"
#include "libs/features/access/access_log.h"
#include "libs/server/access.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/registry.h"

namespace fabrique::services {

class PersonalDataReads {
 public:
  // Distinct `caller` label values before the rest share "_other".
  static constexpr int kDefaultMaxCallers = 1000;
  static constexpr char kOtherCallers[] = "_other";

  // The personal features a call read of one group.
  struct Read {
    std::string group;
    std::vector<std::string> features;
  };

  // `access` and `log` are not owned and must outlive this object; the counter is registered in
  // `metrics`.
  PersonalDataReads(const server::ServiceAccess* access, features::AccessLog* log,
                    prometheus::Registry& metrics, int max_callers = kDefaultMaxCallers);

  // OK when `personal` is empty or the caller of `context` holds features.personal.read in the
  // squad owning `group`; PERMISSION_DENIED naming the first personal feature, the permission
  // and the squad otherwise (UNAUTHENTICATED if the credentials stopped verifying).
  absl::Status Check(const grpc::ServerContextBase& context, const server::Caller& caller,
                     const v1::FeatureGroup& group, absl::Span<const std::string> personal) const;

  // Counts one read by `caller` and queues one access-log entry per group of `reads` (nothing
  // when `reads` is empty). UNAVAILABLE when the log cannot take them: the read must then be
  // refused.
  absl::Status Record(const server::Caller& caller, absl::string_view call,
                      const std::vector<Read>& reads, int64_t entity_count,
                      absl::string_view dataset_id);

 private:
  // The counter of `caller`'s series (or of "_other" once the bound is reached).
  prometheus::Counter& CounterFor(const v1::Principal& caller) ABSL_LOCKS_EXCLUDED(mu_);

  const server::ServiceAccess* access_;
  features::AccessLog* log_;
  prometheus::Family<prometheus::Counter>& reads_;
  const int max_callers_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, prometheus::Counter*> counters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_FEATURES_PERSONAL_DATA_H_
