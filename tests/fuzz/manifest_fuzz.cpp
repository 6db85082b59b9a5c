// Fuzz target: bytes as a manifest file. Parsing never crashes; a manifest that validates
// survives the round trip the daemon relies on (to_json, then parse_manifest, gives an equal
// Manifest: what a job's saved state reads back as after a restart).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "daemon/common/json.hpp"
#include "migrations/manifest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace backfilld;
  auto json = common::parse_json(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!json.ok()) return 0;
  auto manifest = migrations::parse_manifest(*json);
  if (!manifest.ok()) {
    if (manifest.error().code != "invalid_manifest") std::abort();
    return 0;
  }
  const rapidjson::Document stored = migrations::to_json(*manifest);
  auto again = migrations::parse_manifest(stored);
  if (!again.ok() || !(*again == *manifest)) {
    std::fprintf(stderr, "manifest_fuzz: the stored form does not read back equal\n");
    std::abort();
  }
  return 0;
}
