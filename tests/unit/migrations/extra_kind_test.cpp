// A migration kind defined entirely in this file, registered through the same registry as the
// built-in ones, read by parse_manifest and run by the engine: adding a kind needs no edit of the
// manifest parser, the engine or the job layer (docs/ADDING_A_KIND.md).
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "daemon/common/json.hpp"
#include "daemon/engine/container_runner.hpp"
#include "daemon/engine/run_checks.hpp"
#include "migrations/kind.hpp"
#include "migrations/scoped_transform.hpp"
#include "tests/support/fake_document_store.hpp"
#include "tests/support/manifest_text.hpp"
#include "tests/support/run_sync.hpp"

namespace backfilld::migrations {
namespace {

/// {"field": "title"}: the one field uppercase-field changes.
struct UppercaseFieldSettings {
  std::string field;
  bool operator==(const UppercaseFieldSettings&) const = default;
};

/// Uppercases a string field; values already uppercase are skipped, non-strings are left.
class UppercaseField final : public ScopedTransform {
 public:
  static common::Result<std::unique_ptr<Transform>> create(const ContainerSpec& container,
                                                           const UppercaseFieldSettings& settings) {
    auto scope = checked_scope(container, nullptr, settings.field.empty() ? "needs a field" : "");
    if (!scope) return common::Unexpected{scope.error()};
    return std::unique_ptr<Transform>(new UppercaseField(std::move(*scope), settings.field));
  }

 private:
  UppercaseField(DocumentScope scope, std::string field)
      : ScopedTransform(std::move(scope), {std::move(field)}) {}

  TransformResult apply_in_scope(const InScope& in, TransformResult result) const override {
    rapidjson::Value* value = find_mutable(in.document, fields_[0]);
    if (is_missing(value)) {
      result.fields[0] = FieldOutcome::kSkipped;
      return result;
    }
    if (!value->IsString()) {
      result.fields[0] = FieldOutcome::kLeft;
      return result;
    }
    std::string text(value->GetString(), value->GetStringLength());
    std::string upper = text;
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (upper == text) {
      result.fields[0] = FieldOutcome::kSkipped;
      return result;
    }
    result.fields[0] = FieldOutcome::kRewritten;
    result.outcome = Outcome::kRewritten;
    if (in.mode == Mode::kLive) value->SetString(upper, in.allocator);
    return result;
  }
};

constexpr std::array<std::string_view, 1> kKeys = {"field"};

/// The registry row: its manifest settings, counts naming, transform and checks.
class UppercaseFieldKind final : public TypedKind<UppercaseFieldSettings> {
 public:
  explicit UppercaseFieldKind(std::string_view name = "uppercase-field")
      : TypedKind({.name = name, .rewritten_name = "uppercased", .left_name = "notText"}) {}
  std::span<const std::string_view> keys() const override { return kKeys; }

  /// Counts the documents by query first (a shared helper of kind checks).
  net::awaitable<CheckReport> before_scan(cosmos::DocumentStore& store,
                                          const CheckTarget& target) const override {
    CheckReport report;
    // Named, not temporaries: g++ 12 destroys temporaries of a co_await expression twice.
    const cosmos::ContainerRef container{target.database, target.spec.name};
    const QueryFilter all(target.manifest, "");
    auto total = co_await count_documents(store, container, all);
    if (!total) {
      report.failure = "cannot count: " + cosmos::describe(total.error());
    } else {
      report.figures.emplace_back("documentsBefore", *total);
    }
    co_return report;
  }

  /// Fails the run when any value was not text.
  net::awaitable<CheckReport> after_scan(cosmos::DocumentStore&,
                                         const CheckTarget&,
                                         const engine::Counts& counts) const override {
    CheckReport report;
    const std::uint64_t not_text = counts.fields.empty() ? 0 : counts.fields[0].left;
    report.figures.emplace_back("notText", not_text);
    if (not_text > 0) report.failure = std::to_string(not_text) + " values are not text";
    co_return report;
  }

 private:
  UppercaseFieldSettings parse_settings(const rapidjson::Value& json,
                                        const std::string& path,
                                        const ContainerSpec& container,
                                        Problems& problems) const override {
    UppercaseFieldSettings settings;
    changed_field(json, "field", path, container.partition_key_path, settings.field, problems);
    return settings;
  }
  void write_settings(const UppercaseFieldSettings& settings,
                      rapidjson::Value& out,
                      Allocator& allocator) const override {
    out.AddMember("field", string_value(settings.field, allocator), allocator);
  }
  std::vector<std::string> fields_of(const UppercaseFieldSettings& settings) const override {
    return {settings.field};
  }
  common::Result<std::unique_ptr<Transform>> make(
      const TransformInputs& inputs, const UppercaseFieldSettings& settings) const override {
    return UppercaseField::create(inputs.container, settings);
  }
};

const std::string kContainer = R"({"name": "notes", "partitionKeyPath": "/ws", "field": "title"})";

std::string title(const testing::FakeDocumentStore& store, const std::string& id) {
  const rapidjson::Document document = store.get(id);
  return std::string(common::string_member(document, "title").value_or("?"));
}

/// Runs `manifest`'s first container through run_with_checks and the container runner, as the
/// job manager and the run command do.
struct Run {
  engine::RunOutcome outcome;
  engine::Counts counts;
  CheckReport checks;
};
Run run(testing::FakeDocumentStore& store, const Manifest& manifest, Mode mode) {
  net::io_context io;
  const ContainerSpec& spec = manifest.containers.at(0);
  auto transform = make_transform(manifest, spec, nullptr);
  REQUIRE(transform.ok());
  const engine::SystemClock clock;
  const engine::RunSettings settings{.batch_size = 2};
  const engine::RunTarget target{.job_label = manifest.id + "/" + spec.name,
                                 .container = {"db", spec.name},
                                 .partition_key_path = spec.partition_key_path,
                                 .product_id = manifest.product_id,
                                 .stop = manifest.stop,
                                 .mode = mode,
                                 .rewritten_name = "uppercased"};
  engine::ContainerRunner runner(store, **transform, target, settings, clock);
  Run result;
  result.outcome = testing::run_sync(
      io, engine::run_with_checks(store, runner, CheckTarget{manifest, spec, "db", mode},
                                  result.checks));
  result.counts = runner.progress().counts;
  return result;
}

}  // namespace

TEST_CASE("a kind from one file is parsed, written back and run by the engine unchanged") {
  const UppercaseFieldKind kind;
  const KindRegistration registration(kind);

  const Manifest manifest = testing::parsed_manifest(testing::manifest_text(
      "uppercase-field", kContainer, R"(, "stopCriteria": {"maxMissingPartitionKey": 1})"));
  CHECK(manifest.containers[0].settings == KindSettings(UppercaseFieldSettings{"title"}));
  auto again = parse_manifest(to_json(manifest));
  REQUIRE(again.ok());
  CHECK(*again == manifest);
  CHECK(find_kind_info("uppercase-field")->rewritten_name == "uppercased");
  CHECK(kind.counted_fields(manifest.containers[0]) == std::vector<std::string>{"title"});

  testing::FakeDocumentStore store;
  store.put(R"({"id": "a", "ws": "w", "title": "hello"})");
  store.put(R"({"id": "b", "ws": "w", "title": "DONE"})");
  store.put(R"({"id": "c", "ws": "w"})");
  store.put(R"({"id": "d", "title": "no key"})");
  store.put(R"({"id": "e", "ws": "w", "title": "again"})");

  const Run dry = run(store, manifest, Mode::kDryRun);
  CHECK(dry.outcome.status == engine::RunStatus::kSucceeded);
  CHECK(store.replaces + store.batches == 0);
  CHECK(dry.counts.fields.at(0) == engine::FieldCounts{2, 2, 0, 0});

  const Run live = run(store, manifest, Mode::kLive);
  REQUIRE(live.outcome.status == engine::RunStatus::kSucceeded);
  CHECK(live.counts.rewritten == 2);
  CHECK(live.counts.missing_partition_key == 1);
  CHECK(title(store, "a") == "HELLO");
  CHECK(title(store, "e") == "AGAIN");
  CHECK(title(store, "d") == "no key");
  CHECK(live.checks.figures ==
        std::vector<std::pair<std::string, std::uint64_t>>{{"documentsBefore", 5}, {"notText", 0}});

  SUBCASE("its check after the scan fails the run") {
    store.put(R"({"id": "f", "ws": "w", "title": 7})");
    const Run failed = run(store, manifest, Mode::kLive);
    CHECK(failed.outcome.status == engine::RunStatus::kFailed);
    CHECK(failed.outcome.reason == "1 values are not text");
  }
}

TEST_CASE("a registered kind's manifest problems name the field") {
  const UppercaseFieldKind kind;
  const KindRegistration registration(kind);
  CHECK(testing::refusal_of(testing::manifest_text(
            "uppercase-field", R"({"name": "notes", "partitionKeyPath": "/ws"})")) ==
        "containers[0].field: required");
  CHECK(testing::refusal_of(testing::manifest_text(
            "uppercase-field",
            R"({"name": "notes", "partitionKeyPath": "/ws", "field": "title", "feild": 1})")) ==
        R"(containers[0].feild: unknown field (did you mean "field"?))");
  CHECK(testing::refusal_of(testing::manifest_text(
                                "uppercase-field",
                                R"({"name": "notes", "partitionKeyPath": "/ws", "field": "ws"})"))
            .find("containers[0].field: \"ws\" is preserved by every backfill") == 0);
}

TEST_CASE("the registry refuses a taken name and forgets a kind whose registration ended") {
  {
    const UppercaseFieldKind kind;
    const KindRegistration registration(kind);
    CHECK(find_kind("uppercase-field") == &kind);
    CHECK(known_kinds().back() == &kind);
    const UppercaseFieldKind twin;
    auto refused = register_kind(twin);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message == R"(kind "uppercase-field" is already registered)");
    const UppercaseFieldKind built_in_name("verify");
    CHECK_FALSE(register_kind(built_in_name).ok());
  }
  CHECK(find_kind("uppercase-field") == nullptr);
  CHECK(find_kind("verify") != nullptr);
  CHECK(testing::refusal_of(testing::manifest_text("uppercase-field", kContainer))
            .starts_with("kind: must be one of \"encrypt-fields\""));
}

}  // namespace backfilld::migrations
