// Listing and catalog search: pagination through several pages with filters, compared with a
// brute-force filter of everything applied; page sizes and tokens.

#include <string>
#include <vector>

#include "catalog_test_util.h"
#include "libs/features/catalog/catalog_pagination.h"

namespace fabrique::features {
namespace {

using testing::ApplyRequest;
using testing::CatalogFixture;
using testing::MakeEntity;
using testing::MakeFeature;
using testing::MakeGroup;

constexpr int kGroups = 25;

std::string GroupName(int i) { return "g" + std::string(i < 10 ? "0" : "") + std::to_string(i); }

// 25 groups over two entities and two squads, with group tags and feature tags; group 4 is
// "gold" but its is_fraud feature overrides the tier to "bronze".
v1::FeatureGroupSpec GroupSpec(int i) {
  v1::FeatureGroupSpec spec =
      MakeGroup(GroupName(i), i % 2 == 0 ? "customer" : "merchant",
                {MakeFeature("amount_" + std::to_string(i), v1::FEATURE_TYPE_FLOAT),
                 MakeFeature("country", v1::FEATURE_TYPE_STRING),
                 MakeFeature("is_fraud", v1::FEATURE_TYPE_BOOL)});
  spec.set_owner_squad(i % 3 == 0 ? "risk" : "growth");
  spec.set_description("Group number " + std::to_string(i));
  (*spec.mutable_tags())["tier"] = i % 4 == 0 ? "gold" : "silver";
  if (i % 5 == 0) (*spec.mutable_tags())["pii"] = "yes";
  spec.mutable_features(1)->set_description("ISO country code");
  (*spec.mutable_features(2)->mutable_tags())["label"] = "yes";
  if (i == 4) (*spec.mutable_features(2)->mutable_tags())["tier"] = "bronze";
  return spec;
}

struct ListingFixture : CatalogFixture {
  ListingFixture() {
    CATALOG_REQUIRE_OK(catalog->ApplyEntity(MakeEntity("customer", "customer_id")));
    CATALOG_REQUIRE_OK(catalog->ApplyEntity(MakeEntity("merchant", "merchant_id")));
    // Applied in reverse so that listing order is not insertion order.
    for (int i = kGroups - 1; i >= 0; --i) {
      CATALOG_REQUIRE_OK(catalog->ApplyFeatureGroup(ApplyRequest(GroupSpec(i))));
    }
  }
};

// Calls `list` page after page, starting with an empty token, and returns every item's name
// and the number of pages.
template <typename Request, typename ListFn, typename NamesFn>
std::pair<std::vector<std::string>, int> CollectPages(Request request, ListFn list, NamesFn names) {
  std::vector<std::string> all;
  int pages = 0;
  do {
    auto response = list(request);
    CATALOG_REQUIRE_OK(response);
    ++pages;
    REQUIRE(pages < 1000);
    for (const std::string& name : names(*response)) all.push_back(name);
    request.set_page_token(response->next_page_token());
  } while (!request.page_token().empty());
  return {all, pages};
}

std::vector<std::string> GroupNames(const v1::ListFeatureGroupsResponse& response) {
  std::vector<std::string> names;
  for (const v1::FeatureGroup& group : response.groups()) names.push_back(group.spec().name());
  return names;
}

std::vector<std::string> EntryNames(const v1::ListFeaturesResponse& response) {
  std::vector<std::string> names;
  for (const v1::CatalogEntry& entry : response.entries()) {
    names.push_back(entry.ref().group() + ":" + entry.ref().feature());
  }
  return names;
}

TEST_CASE("Feature groups page through with filters", "[listing]") {
  ListingFixture fixture;
  auto list = [&](const v1::ListFeatureGroupsRequest& r) {
    return fixture.catalog->ListFeatureGroups(r);
  };
  v1::ListFeatureGroupsRequest request;
  request.set_page_size(4);
  auto [all, pages] = CollectPages(request, list, GroupNames);
  REQUIRE(all.size() == kGroups);
  REQUIRE(pages == 7);
  REQUIRE(all.front() == "g00");
  REQUIRE(all.back() == "g24");

  request.set_entity("customer");
  request.add_tags("tier=silver");
  request.set_page_size(2);
  std::vector<std::string> expected;
  for (int i = 0; i < kGroups; ++i) {
    if (i % 2 == 0 && i % 4 != 0) expected.push_back(GroupName(i));
  }
  auto [filtered, filtered_pages] = CollectPages(request, list, GroupNames);
  REQUIRE(filtered == expected);
  REQUIRE(filtered_pages == 3);  // 6 groups, 2 per page, and no empty last page.

  request.clear_tags();
  request.clear_entity();
  request.set_owner_squad("risk");
  request.add_tags("pii");
  expected.clear();
  for (int i = 0; i < kGroups; ++i) {
    if (i % 3 == 0 && i % 5 == 0) expected.push_back(GroupName(i));
  }
  REQUIRE(CollectPages(request, list, GroupNames).first == expected);  // g00, g15

  request.clear_tags();
  request.add_tags("=gold");
  CATALOG_REQUIRE_ERROR(fixture.catalog->ListFeatureGroups(request),
                        absl::StatusCode::kInvalidArgument, "tags[0] \"=gold\" has no key");
}

TEST_CASE("Page sizes default to 100 and are capped at 1000; tokens are checked", "[listing]") {
  CatalogFixture fixture;
  for (int i = 0; i < 1005; ++i) {
    CATALOG_REQUIRE_OK(
        fixture.catalog->ApplyEntity(MakeEntity("e" + std::to_string(10000 + i), "id")));
  }
  v1::ListEntitiesRequest request;
  absl::StatusOr<v1::ListEntitiesResponse> page = fixture.catalog->ListEntities(request);
  CATALOG_REQUIRE_OK(page);
  REQUIRE(page->entities_size() == 100);
  REQUIRE(page->entities(0).name() == "e10000");
  request.set_page_size(5000);
  page = fixture.catalog->ListEntities(request);
  REQUIRE(page->entities_size() == 1000);
  request.set_page_token(page->next_page_token());
  page = fixture.catalog->ListEntities(request);
  REQUIRE(page->entities_size() == 5);
  REQUIRE(page->entities(0).name() == "e11000");
  REQUIRE(page->next_page_token().empty());

  request.set_page_token("not a token!");
  CATALOG_REQUIRE_ERROR(fixture.catalog->ListEntities(request), absl::StatusCode::kInvalidArgument,
                        "page_token");
  // A token of another list is refused rather than misread.
  request.set_page_token(EncodePageToken(PageKind::kFeatureGroups, "x"));
  CATALOG_REQUIRE_ERROR(fixture.catalog->ListEntities(request), absl::StatusCode::kInvalidArgument,
                        "another list");
  request.set_page_token("");
  request.set_page_size(-1);
  CATALOG_REQUIRE_ERROR(fixture.catalog->ListEntities(request), absl::StatusCode::kInvalidArgument,
                        "page_size -1");
}

TEST_CASE("Catalog search matches names and descriptions, ignoring case", "[listing][search]") {
  ListingFixture fixture;
  auto list = [&](const v1::ListFeaturesRequest& r) { return fixture.catalog->ListFeatures(r); };
  v1::ListFeaturesRequest request;
  request.set_page_size(10);
  auto [everything, pages] = CollectPages(request, list, EntryNames);
  REQUIRE(everything.size() == 3 * kGroups);
  REQUIRE(pages == 8);
  REQUIRE(everything[0] == "g00:amount_0");
  REQUIRE(everything[1] == "g00:country");  // Group order, then the group's feature order.

  std::vector<std::string> expected;
  for (int i = 0; i < kGroups; ++i) expected.push_back(GroupName(i) + ":country");
  request.set_query("COUNTRY");
  REQUIRE(CollectPages(request, list, EntryNames).first == expected);
  request.set_query("iso Country");  // In the description.
  request.set_type(v1::FEATURE_TYPE_STRING);
  auto [by_description, description_pages] = CollectPages(request, list, EntryNames);
  REQUIRE(by_description == expected);
  REQUIRE(description_pages == 3);

  request.set_query("group number 1");  // Group descriptions: 1, 10..19.
  request.set_type(v1::FEATURE_TYPE_UNSPECIFIED);
  REQUIRE(CollectPages(request, list, EntryNames).first.size() == 3 * 11);
  request.set_query("AMOUNT_2");  // amount_2, amount_20..24.
  REQUIRE(CollectPages(request, list, EntryNames).first.size() == 6);
}

TEST_CASE("Catalog search filters by entity, owner, type and tags", "[listing][search]") {
  ListingFixture fixture;
  auto list = [&](const v1::ListFeaturesRequest& r) { return fixture.catalog->ListFeatures(r); };
  v1::ListFeaturesRequest request;
  request.set_page_size(3);
  request.set_entity("customer");
  request.set_type(v1::FEATURE_TYPE_BOOL);
  request.add_tags("label=yes");
  request.add_tags("tier=gold");  // Inherited from the group, overridden by g04's feature.
  REQUIRE(CollectPages(request, list, EntryNames).first ==
          std::vector<std::string>{"g00:is_fraud", "g08:is_fraud", "g12:is_fraud", "g16:is_fraud",
                                   "g20:is_fraud", "g24:is_fraud"});
  request.clear_tags();
  request.add_tags("tier=bronze");
  REQUIRE(CollectPages(request, list, EntryNames).first ==
          std::vector<std::string>{"g04:is_fraud"});

  request.Clear();
  request.set_owner_squad("risk");
  request.set_query("amount");
  request.set_page_size(2);
  std::vector<std::string> expected;
  for (int i = 0; i < kGroups; i += 3) {
    expected.push_back(GroupName(i) + ":amount_" + std::to_string(i));
  }
  REQUIRE(CollectPages(request, list, EntryNames).first == expected);

  request.Clear();
  request.set_query("amount_7");
  absl::StatusOr<v1::ListFeaturesResponse> found = fixture.catalog->ListFeatures(request);
  CATALOG_REQUIRE_OK(found);
  REQUIRE(found->entries_size() == 1);
  const v1::CatalogEntry& entry = found->entries(0);
  REQUIRE(entry.ref().group() == "g07");
  REQUIRE(entry.spec().type() == v1::FEATURE_TYPE_FLOAT);
  REQUIRE(entry.entity() == "merchant");
  REQUIRE(entry.owner_squad() == "growth");
  REQUIRE(entry.schema_version() == 1);
  REQUIRE(entry.group_description() == "Group number 7");

  request.set_page_token(EncodePageToken(PageKind::kEntities, ""));
  CATALOG_REQUIRE_ERROR(fixture.catalog->ListFeatures(request), absl::StatusCode::kInvalidArgument,
                        "page_token");
}

}  // namespace
}  // namespace fabrique::features
