// What `fabrique tower` reads from its command line: quantities as Kubernetes writes them, money,
// skills and skill needs, the tower's enums by short name, months, members, quota flags merged
// into the quota in force, records written as YAML, use-case flags and their update mask, and
// the job a submit sends. Every bad value is INVALID_ARGUMENT naming the flag (exit 2).

#include "tools/cli/tower_args.h"

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "tests/util/test_util.h"
#include "tools/cli/tower_follow.h"
#include "tools/cli/tower_submit.h"
#include "tools/cli/tower_usecase_flags.h"

namespace fabrique::cli {
namespace {

constexpr int64_t kMi = 1024 * 1024;
constexpr int64_t kGi = 1024 * kMi;

bool Mentions(const absl::Status& status, absl::string_view text) {
  return status.code() == absl::StatusCode::kInvalidArgument &&
         absl::StrContains(status.message(), text);
}

TEST_CASE("CPU is cores or millicores") {
  CHECK(*ParseMillicores("cpu", "500m") == 500);
  CHECK(*ParseMillicores("cpu", "2") == 2000);
  CHECK(*ParseMillicores("cpu", "1.5") == 1500);
  CHECK(*ParseMillicores("cpu", " 250m ") == 250);
  for (const char* bad : {"", "m", "x", "-1", "2 cores", "1e13"}) {
    INFO(bad);
    CHECK(Mentions(ParseMillicores("cpu", bad).status(), "--cpu"));
  }
}

TEST_CASE("memory takes Kubernetes' binary and decimal suffixes") {
  CHECK(*ParseBytes("memory", "512Mi") == 512 * kMi);
  CHECK(*ParseBytes("memory", "8Gi") == 8 * kGi);
  CHECK(*ParseBytes("memory", "1.5Gi") == 3 * kGi / 2);
  CHECK(*ParseBytes("memory", "1G") == 1000000000);
  CHECK(*ParseBytes("memory", "100M") == 100000000);
  CHECK(*ParseBytes("memory", "1024") == 1024);
  for (const char* bad : {"", "8Gb", "Gi", "-1Gi", "eight"}) {
    INFO(bad);
    CHECK(Mentions(ParseBytes("memory", bad).status(), "not a memory quantity"));
  }
}

TEST_CASE("quantities by resource, and written back as short as exact") {
  CHECK(*ParseQuantity(v1::RESOURCE_GPU, "gpu", "2") == 2);
  CHECK(Mentions(ParseQuantity(v1::RESOURCE_GPU, "gpu", "1.5").status(), "whole number"));
  CHECK(*ParseQuantity(v1::RESOURCE_CPU, "cpu", "4") == 4000);
  CHECK(*ParseQuantity(v1::RESOURCE_MEMORY, "memory", "8Gi") == 8 * kGi);
  CHECK(FormatQuantity(v1::RESOURCE_CPU, 1500) == "1500m");
  CHECK(FormatQuantity(v1::RESOURCE_CPU, 2000) == "2");
  CHECK(FormatQuantity(v1::RESOURCE_MEMORY, 8 * kGi) == "8Gi");
  CHECK(FormatQuantity(v1::RESOURCE_MEMORY, 512 * kMi) == "512Mi");
  CHECK(FormatQuantity(v1::RESOURCE_MEMORY, 1000) == "1000");
  CHECK(FormatQuantity(v1::RESOURCE_MEMORY, 0) == "0");
  CHECK(FormatQuantity(v1::RESOURCE_GPU, 3) == "3");
}

TEST_CASE("money with or without a currency, exact to the nano") {
  const v1::Money plain = *ParseMoney("budget", "1500");
  CHECK(plain.currency_code() == "EUR");
  CHECK(plain.units() == 1500);
  CHECK(plain.nanos() == 0);
  const v1::Money cents = *ParseMoney("budget", "1500.5 usd");
  CHECK(cents.currency_code() == "USD");
  CHECK(cents.nanos() == 500000000);
  const v1::Money before = *ParseMoney("budget", "CHF 10.000000001");
  CHECK(before.currency_code() == "CHF");
  CHECK(before.units() == 10);
  CHECK(before.nanos() == 1);
  CHECK(ParseMoney("rate", "0.00001", "GBP")->currency_code() == "GBP");
  for (const char* bad : {"", "-5", "1.2.3", "abc", "10 EURO", "1.1234567891", ".5", "5."}) {
    INFO(bad);
    CHECK(Mentions(ParseMoney("budget", bad).status(), "--budget"));
  }
  CHECK(FormatMoney(plain) == "1500 EUR");
  CHECK(FormatMoney(cents) == "1500.50 USD");
  CHECK(FormatMoney(before) == "10.000000001 CHF");
  CHECK(FormatMoney(v1::Money()) == "0");
  CHECK(MoneyValue(cents) == 1500.5);
}

TEST_CASE("skills and the effort a use case needs in them") {
  CHECK(*ParseSkill("skills", "data-science") == v1::SKILL_DATA_SCIENCE);
  CHECK(*ParseSkill("skills", "MLOPS") == v1::SKILL_MLOPS);
  const v1::SkillNeed need = *ParseSkillNeed("skill", "data-engineering=1.5");
  CHECK(need.skill() == v1::SKILL_DATA_ENGINEERING);
  CHECK(need.fte() == 1.5);
  CHECK(Mentions(ParseSkillNeed("skill", "data-science").status(), "SKILL=FTE"));
  CHECK(Mentions(ParseSkillNeed("skill", "mlops=0").status(), "SKILL=FTE"));
  CHECK(Mentions(ParseSkillNeed("skill", "cooking=1").status(), "data-science, data-engineering"));
  CHECK(SplitList(" a, b,,c ") == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("enums by short name, in any case, with dashes or underscores") {
  const auto* status = v1::UseCaseStatus_descriptor();
  for (const char* text : {"in-production", "IN_PRODUCTION", "use_case_status_in_production"}) {
    INFO(text);
    CHECK(*ParseTowerEnum<v1::UseCaseStatus>(status, "status", text) ==
          v1::USE_CASE_STATUS_IN_PRODUCTION);
  }
  CHECK(*ParseTowerEnum<v1::ApprovalKind>(v1::ApprovalKind_descriptor(), "kind",
                                          "budget-overrun") == v1::APPROVAL_KIND_BUDGET_OVERRUN);
  const absl::Status unspecified = ParseEnumValue(status, "status", "unspecified").status();
  CHECK(Mentions(unspecified, "idea, qualified, approved, building, in-production, retired"));
  CHECK(Mentions(ParseEnumValue(status, "status", "done").status(), "--status 'done'"));
  CHECK(EnumText(status, v1::USE_CASE_STATUS_IN_PRODUCTION) == "in-production");
  CHECK(EnumText(status, 0) == "-");
  CHECK(EnumText(v1::JobState_descriptor(), v1::JOB_STATE_PENDING_APPROVAL) == "pending-approval");
}

TEST_CASE("a month is YYYY-MM, from its first second in UTC") {
  CHECK(ParseMonth("month", "2026-12")->seconds() == 1796083200);
  for (const char* bad : {"2026-13", "dec", "2026", "2026-12-01"}) {
    INFO(bad);
    CHECK(Mentions(ParseMonth("month", bad).status(), "YYYY-MM"));
  }
}

TEST_CASE("a member from the members flags") {
  const v1::SquadMember alice =
      *MemberFromFlags("alice", "data-scientist,product-owner", "data-science,domain", 50);
  CHECK(alice.user() == "alice");
  CHECK(alice.roles_size() == 2);
  CHECK(alice.skills(1) == v1::SKILL_DOMAIN);
  CHECK(alice.allocation_percent() == 50);
  CHECK(MemberFromFlags("bob", "", "", -1)->allocation_percent() == 0);
  CHECK(Mentions(MemberFromFlags("", "r", "", -1).status(), "--user"));
  CHECK(Mentions(MemberFromFlags("a", "", "", 120).status(), "0..100"));
  CHECK(Mentions(MemberFromFlags("a", "", "juggling", -1).status(), "--skills"));
}

TEST_CASE("quota flags change the named resources of one flavour, keeping the rest") {
  v1::Quota quota;
  quota.set_squad("risk");
  v1::ResourceQuota* cpu = quota.add_resources();
  cpu->set_resource(v1::RESOURCE_CPU);
  cpu->set_nominal(2000);
  cpu->mutable_lending_limit()->set_value(1000);
  v1::ResourceQuota* a100 = quota.add_resources();
  a100->set_flavor("a100");
  a100->set_resource(v1::RESOURCE_GPU);
  a100->set_nominal(2);

  QuotaFlags flags;
  flags.cpu = "4";
  flags.memory = "8Gi";
  flags.borrowing_limits = {"cpu=2"};
  REQUIRE(ApplyQuotaFlags(flags, &quota).ok());
  REQUIRE(quota.resources_size() == 3);
  CHECK(quota.resources(0).nominal() == 4000);  // "" is the default flavour.
  CHECK(quota.resources(0).borrowing_limit().value() == 2000);
  CHECK(quota.resources(0).lending_limit().value() == 1000);  // Kept.
  CHECK(quota.resources(1).nominal() == 2);                   // Another flavour, untouched.
  CHECK(quota.resources(2).flavor() == "default");
  CHECK(quota.resources(2).resource() == v1::RESOURCE_MEMORY);
  CHECK(quota.resources(2).nominal() == 8 * kGi);

  QuotaFlags lift;
  lift.lending_limits = {"cpu=none"};
  REQUIRE(ApplyQuotaFlags(lift, &quota).ok());
  CHECK_FALSE(quota.resources(0).has_lending_limit());

  QuotaFlags orphan;
  orphan.flavor = "a100";
  orphan.borrowing_limits = {"memory=1Gi"};
  CHECK(Mentions(ApplyQuotaFlags(orphan, &quota), "no memory quota in flavour a100"));
  QuotaFlags shapeless;
  shapeless.lending_limits = {"cpu"};
  CHECK(Mentions(ApplyQuotaFlags(shapeless, &quota), "RESOURCE=QUANTITY"));
  QuotaFlags bad;
  bad.gpu = "one";
  CHECK(Mentions(ApplyQuotaFlags(bad, &quota), "--gpu"));

  // Checked before any call: values only, whatever the squad holds.
  CHECK(CheckQuotaFlags(orphan).ok());
  CHECK(Mentions(CheckQuotaFlags(bad), "--gpu"));
  CHECK(Mentions(CheckQuotaFlags(shapeless), "RESOURCE=QUANTITY"));
  QuotaFlags bad_limit;
  bad_limit.borrowing_limits = {"memory=lots"};
  CHECK(Mentions(CheckQuotaFlags(bad_limit), "not a memory quantity"));
}

TEST_CASE("records written as YAML read as protobuf JSON does") {
  fabrique::testing::TempDir tmp;
  const std::string path = tmp.Sub("retail.yaml");
  std::ofstream(path) << "entity:\n"
                         "  id: retail\n"
                         "  display_name: \"Retail: banking\"\n"
                         "  default_quotas:\n"
                         "    - {resource: RESOURCE_CPU, nominal: 16000}\n"
                         "squads: [{id: risk}, {id: churn, share_weight: 2}]\n"
                         "budget: {monthly: {currency_code: EUR, units: 50000}}\n";
  v1::OnboardEntityRequest request;
  REQUIRE(ReadRecordFile(path, &request).ok());
  CHECK(request.entity().display_name() == "Retail: banking");
  CHECK(request.entity().default_quotas(0).nominal() == 16000);
  CHECK(request.squads(1).share_weight() == 2);
  CHECK(request.budget().monthly().units() == 50000);

  CHECK(*YamlToJson("a: true\nb: 'true'\nc: ~\nd: \"x\\ny\"") ==
        R"({"a":true,"b":"true","c":null,"d":"x\ny"})");
  CHECK(Mentions(YamlToJson("a: [").status(), "not YAML"));
  const std::string wrong = tmp.Sub("wrong.yaml");
  std::ofstream(wrong) << "entity: {colour: blue}\n";
  CHECK(Mentions(ReadRecordFile(wrong, &request), "fabrique.v1.OnboardEntityRequest"));
}

TEST_CASE("use-case flags set what they give and name it in the mask") {
  UseCaseFlags flags;
  flags.value = "1200000 EUR";
  flags.criticality = 8;
  flags.size = 3;
  flags.skills = {"data-science=1.5", "mlops=0.5"};
  flags.canary = 20;
  v1::UseCase use_case;
  google::protobuf::FieldMask mask;
  REQUIRE(flags.ApplyTo(&use_case, &mask).ok());
  CHECK(use_case.estimated_annual_value().units() == 1200000);
  CHECK(use_case.time_criticality() == 8);
  CHECK(use_case.job_size() == 3);
  CHECK(use_case.skills_needed_size() == 2);
  CHECK(use_case.retraining().canary_percent() == 20);
  CHECK(std::vector<std::string>(mask.paths().begin(), mask.paths().end()) ==
        std::vector<std::string>{"estimated_annual_value", "time_criticality", "job_size",
                                 "skills_needed", "retraining"});
  UseCaseFlags out_of_scale;
  out_of_scale.risk = 11;
  CHECK(Mentions(out_of_scale.ApplyTo(&use_case, nullptr), "--risk 11"));
  UseCaseFlags no_canary;
  no_canary.canary = 0;
  CHECK(Mentions(no_canary.ApplyTo(&use_case, nullptr), "--canary"));
}

TEST_CASE("submit reads a JobSpec or a RunSpec, and lays its flags over it") {
  fabrique::testing::TempDir tmp;
  const std::string run_path = tmp.Sub("run.json");
  std::ofstream(run_path) << R"({"model_name": "fraud", "use_case_id": "fraud-scoring",
                                 "epochs": 3})";
  v1::JobSpec spec;
  REQUIRE(ReadJobSpecFile(run_path, &spec).ok());
  CHECK(spec.training().model_name() == "fraud");

  const std::string job_path = tmp.Sub("job.yaml");
  std::ofstream(job_path) << "training: {model_name: churn}\nresources: {cpu_cores: 2}\n"
                             "executor: EXECUTOR_KUBERNETES\n";
  REQUIRE(ReadJobSpecFile(job_path, &spec).ok());
  CHECK(spec.training().model_name() == "churn");
  CHECK(spec.resources().cpu_cores() == 2);
  CHECK(spec.executor() == v1::EXECUTOR_KUBERNETES);

  const std::string neither = tmp.Sub("neither.json");
  std::ofstream(neither) << R"({"colour": "blue"})";
  CHECK(Mentions(ReadJobSpecFile(neither, &spec), "neither a fabrique.v1.JobSpec"));

  REQUIRE(ReadJobSpecFile(run_path, &spec).ok());
  SubmitFlags flags;
  flags.squad = "risk";
  flags.cpu = "500m";
  flags.memory = "4Gi";
  flags.gpu = 1;
  flags.priority = "100";
  flags.executor = "local";
  flags.max_runtime = absl::Hours(2);
  flags.request_id = "r-1";
  v1::SubmitJobRequest request;
  REQUIRE(BuildSubmitRequest(flags, spec, &request).ok());
  CHECK(request.squad() == "risk");
  CHECK(request.use_case_id() == "fraud-scoring");  // From the RunSpec.
  CHECK(request.spec().resources().cpu_cores() == 0.5);
  CHECK(request.spec().resources().memory_bytes() == 4 * kGi);
  CHECK(request.spec().resources().gpus() == 1);
  CHECK(request.spec().priority().value() == 100);
  CHECK(request.spec().executor() == v1::EXECUTOR_LOCAL);
  CHECK(request.spec().max_runtime().seconds() == 7200);
  CHECK(request.request_id() == "r-1");
  CHECK(request.trigger() == v1::JOB_TRIGGER_MANUAL);

  SubmitFlags no_squad;
  CHECK(Mentions(BuildSubmitRequest(no_squad, spec, &request), "--squad"));
  SubmitFlags bad_priority = flags;
  bad_priority.priority = "high";
  CHECK(Mentions(BuildSubmitRequest(bad_priority, spec, &request), "--priority"));
  SubmitFlags bad_executor = flags;
  bad_executor.executor = "slurm";
  CHECK(Mentions(BuildSubmitRequest(bad_executor, spec, &request), "local, kubernetes"));
  SubmitFlags zero_cpu = flags;
  zero_cpu.cpu = "0";
  CHECK(Mentions(BuildSubmitRequest(zero_cpu, spec, &request), "--cpu"));
}

TEST_CASE("a job's change says its state and why") {
  v1::Job job;
  job.set_id("j-1");
  job.set_state(v1::JOB_STATE_QUEUED);
  job.set_queue_position(2);
  job.set_state_reason("waiting for cpu in squad risk: 2000m requested, 500m free in cohort");
  CHECK(JobChangeLine(job, false) ==
        "queued (position 2): waiting for cpu in squad risk: 2000m requested, 500m free in "
        "cohort");
  job.set_state(v1::JOB_STATE_FAILED);
  job.set_failure_reason("trainer: out of memory");
  CHECK(JobChangeLine(job, true) == "job j-1: failed: trainer: out of memory");
  job.set_state(v1::JOB_STATE_PENDING_APPROVAL);
  job.set_state_reason("budget of squad risk is past its hard threshold");
  job.set_approval_id("a-9");
  CHECK(absl::EndsWith(JobChangeLine(job, false), "[approval a-9]"));
  CHECK(JobEnded(v1::JOB_STATE_CANCELLED));
  CHECK_FALSE(JobEnded(v1::JOB_STATE_PREEMPTED));
}

}  // namespace
}  // namespace fabrique::cli
