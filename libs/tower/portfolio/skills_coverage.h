#ifndef FABRIQUE_LIBS_TOWER_PORTFOLIO_SKILLS_COVERAGE_H_
#define FABRIQUE_LIBS_TOWER_PORTFOLIO_SKILLS_COVERAGE_H_

// People are capacity too: the effort a use case needs in each skill, weighed against what its
// squad's members give it, and across the factory the skills short and the people promised to
// more than their whole time.
//
// A member gives a squad allocation_percent / 100 FTE (0 = 100%) in every skill they carry, so a
// data scientist at 50% who also knows the domain gives 0.5 FTE of each. This counts a person's
// time once per skill: it tells whether someone in the squad can do the work, not that they can
// do all of it at once.

#include <map>
#include <vector>

#include "fabrique/v1/tower.pb.h"

namespace fabrique::tower {

// FTE per skill that a squad's members give it.
std::map<v1::Skill, double> SquadSkillFte(const v1::Squad& squad);

// FTE per skill a use case needs (several needs of one skill add up).
std::map<v1::Skill, double> NeededFte(const v1::UseCase& use_case);

// The skills `use_case` needs beyond what `squad` gives (nullptr = a squad nobody knows, which
// gives nothing), in skill order. Empty = covered.
std::vector<v1::SkillGap> SkillGapsOf(const v1::UseCase& use_case, const v1::Squad* squad);

// Whether a use case's needs count against the factory's capacity: it is funded (APPROVED,
// BUILDING or IN_PRODUCTION).
bool CountsForCapacity(v1::UseCaseStatus status);

// The gaps across `squads` (the factory or one entity's) for the use cases that count:
// - per skill, the FTE needed against the FTE available, listed when the factory is short of it
//   or when some use case's squad lacks it (its squad's use cases together need more than the
//   squad gives), with those use cases;
// - people in `squads` whose allocations across `all_squads` pass 100%.
v1::CapacityGaps ComputeCapacityGaps(const std::vector<v1::UseCase>& use_cases,
                                     const std::vector<v1::Squad>& squads,
                                     const std::vector<v1::Squad>& all_squads);

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_PORTFOLIO_SKILLS_COVERAGE_H_
