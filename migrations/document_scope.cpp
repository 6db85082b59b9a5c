#include "migrations/document_scope.hpp"

#include <algorithm>

#include "daemon/common/json.hpp"

namespace backfilld::migrations {

std::optional<std::vector<std::string>> split_path(std::string_view path) {
  if (path.size() < 2 || path.front() != '/') return std::nullopt;
  std::vector<std::string> segments;
  std::size_t start = 1;
  while (true) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    if (end == start) return std::nullopt;
    segments.emplace_back(path.substr(start, end - start));
    if (end == path.size()) return segments;
    start = end + 1;
  }
}

const rapidjson::Value* find_path(const rapidjson::Value& root,
                                  const std::vector<std::string>& segments) {
  const rapidjson::Value* at = &root;
  for (const std::string& segment : segments) {
    if (!at->IsObject()) return nullptr;
    auto it =
        at->FindMember(rapidjson::Value(rapidjson::StringRef(segment.data(), segment.size())));
    if (it == at->MemberEnd()) return nullptr;
    at = &it->value;
  }
  return at;
}

rapidjson::Value* find_mutable(rapidjson::Value& object, std::string_view name) {
  auto it = object.FindMember(rapidjson::Value(rapidjson::StringRef(name.data(), name.size())));
  return it == object.MemberEnd() ? nullptr : &it->value;
}

bool is_missing(const rapidjson::Value* value) { return value == nullptr || value->IsNull(); }

common::Unexpected<common::Error> invalid_container(const ContainerSpec& container,
                                                    std::string_view message) {
  return common::fail("invalid_manifest",
                      "container " + container.name + ": " + std::string(message));
}

common::Result<DocumentScope> DocumentScope::create(const ContainerSpec& container,
                                                    const OwnerRule* owner) {
  auto segments = split_path(container.partition_key_path);
  if (!segments) {
    return invalid_container(container, "partition key path \"" + container.partition_key_path +
                                            "\" must look like /field or /field/nested");
  }
  if (owner != nullptr && owner->user_id_field.empty()) {
    return invalid_container(container, "the user id field must not be empty");
  }
  DocumentScope scope;
  scope.partition_key_segments_ = std::move(*segments);
  if (owner != nullptr) {
    scope.user_id_field_ = owner->user_id_field;
    scope.skip_owners_ = owner->skip_owners;
  }
  return scope;
}

DocumentScope::Check DocumentScope::check(const rapidjson::Value& document) const {
  if (is_missing(find_path(document, partition_key_segments_))) {
    return {Outcome::kMissingPartitionKey};
  }
  if (user_id_field_.empty()) return {};
  const rapidjson::Value* owner = common::find_member(document, user_id_field_);
  if (owner == nullptr || !owner->IsString() || owner->GetStringLength() == 0) {
    return {Outcome::kOwnerMismatch};
  }
  const std::string_view owner_id(owner->GetString(), owner->GetStringLength());
  const bool skipped =
      std::find(skip_owners_.begin(), skip_owners_.end(), owner_id) != skip_owners_.end();
  return {std::nullopt, skipped, owner_id};
}

void stamp_updated_at(rapidjson::Value& document,
                      rapidjson::Document::AllocatorType& allocator,
                      const std::string& now) {
  rapidjson::Value stamp(now, allocator);
  if (rapidjson::Value* existing = find_mutable(document, "updatedAt")) {
    *existing = stamp;
  } else {
    document.AddMember("updatedAt", stamp, allocator);
  }
}

}  // namespace backfilld::migrations
