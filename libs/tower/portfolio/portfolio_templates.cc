// The design authority's templates: reference assets new use cases start from.

#include <utility>

#include "libs/core/status_macros.h"
#include "libs/tower/portfolio/portfolio.h"
#include "libs/tower/portfolio/proto_time.h"
#include "libs/tower/portfolio/use_case_validation.h"

namespace fabrique::tower {

absl::StatusOr<v1::Template> Portfolio::PutTemplate(v1::Template template_,
                                                    const v1::Principal& by) {
  RETURN_IF_ERROR(ValidateTemplate(template_));
  *template_.mutable_update_time() = ToProtoTime(clock_->Now());
  *template_.mutable_updated_by() = by;
  RETURN_IF_ERROR(storage_->PutTemplate(template_));
  return template_;
}

absl::StatusOr<v1::Template> Portfolio::GetTemplate(absl::string_view name) {
  return storage_->GetTemplate(name);
}

absl::StatusOr<std::vector<v1::Template>> Portfolio::ListTemplates() {
  return storage_->AllTemplates();
}

}  // namespace fabrique::tower
