#pragma once
/// Manifests from JSON text, for tests of kinds: parsed exactly as the daemon parses them.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "daemon/common/json.hpp"
#include "migrations/manifest.hpp"

namespace backfilld::testing {

/// A manifest of `kind` over one container: `container` is the container object's JSON text.
inline std::string manifest_text(std::string_view kind,
                                 std::string_view container,
                                 std::string_view extra = {}) {
  return R"({"id": "test-)" + std::string(kind) + R"(", "kind": ")" + std::string(kind) +
         R"(", "filter": {"productId": "notelett"})" + std::string(extra) + R"(, "containers": [)" +
         std::string(container) + "]}";
}

/// The refusal of `text`, or "" when it is accepted.
inline std::string refusal_of(const std::string& text) {
  auto json = common::parse_json(text);
  REQUIRE(json.ok());
  auto manifest = migrations::parse_manifest(*json);
  return manifest.ok() ? std::string() : manifest.error().message;
}

inline migrations::Manifest parsed_manifest(const std::string& text) {
  auto json = common::parse_json(text);
  REQUIRE(json.ok());
  auto manifest = migrations::parse_manifest(*json);
  if (!manifest.ok()) FAIL(manifest.error().message);
  return std::move(*manifest);
}

}  // namespace backfilld::testing
