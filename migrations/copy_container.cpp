#include "migrations/copy_container.hpp"

#include <array>

namespace backfilld::migrations {

bool is_system_property(std::string_view name) {
  constexpr std::array<std::string_view, 5> kSystem = {"_rid", "_self", "_etag", "_attachments",
                                                       "_ts"};
  return std::find(kSystem.begin(), kSystem.end(), name) != kSystem.end();
}

common::Result<std::unique_ptr<Transform>> CopyContainer::create(const ContainerSpec& container) {
  if (container.target.name.empty() || container.target.name == container.name) {
    return common::fail("invalid_manifest",
                        "container " + container.name + ": needs a target other than itself");
  }
  ContainerSpec target = container;
  target.partition_key_path = container.target.partition_key_path;
  auto scope = DocumentScope::create(target, false);
  if (!scope) return common::Unexpected{scope.error()};
  return std::unique_ptr<Transform>(new CopyContainer(
      std::move(*scope),
      CopyDestination{container.target.name, container.target.partition_key_path}));
}

CopyContainer::CopyContainer(DocumentScope target_scope, CopyDestination destination)
    : target_scope_(std::move(target_scope)), destination_(std::move(destination)) {}

TransformResult CopyContainer::apply(rapidjson::Value& document,
                                     rapidjson::Document::AllocatorType&,
                                     Mode mode) const {
  TransformResult result;
  if (auto check = target_scope_.check(document); check.problem) {
    result.outcome = *check.problem;
    return result;
  }
  result.outcome = Outcome::kRewritten;
  if (mode == Mode::kDryRun) return result;
  for (auto it = document.MemberBegin(); it != document.MemberEnd();) {
    if (is_system_property({it->name.GetString(), it->name.GetStringLength()})) {
      it = document.EraseMember(it);
    } else {
      ++it;
    }
  }
  return result;
}

}  // namespace backfilld::migrations
