// Manifest files (migrations/manifest_file.cpp): nesting limits, and confinement to the manifest
// directory for names a request gives.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "migrations/manifest.hpp"

namespace backfilld::migrations {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kValid =
    R"({"id": "m1", "kind": "encrypt-fields", "filter": {"productId": "notelett"},)"
    R"( "rollback": "forward-only", "containers": [{"name": "notes", "partitionKeyPath": "/ws",)"
    R"( "fields": ["body"], "context": "notes", "userIdField": "userId"}]})";

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "backfilld-manifest-file-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string write(const std::string& name, std::string_view text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
    return (path_ / name).string();
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace

TEST_CASE("a manifest file nested 100,000 levels deep is refused with the depth, not a crash") {
  const TempDir scratch;
  // Valid up to the nesting: a value 100,000 arrays deep.
  std::string deep(kValid);
  deep.insert(deep.find(R"("context")"),
              R"("value": )" + std::string(100'000, '[') + std::string(100'000, ']') + ", ");
  std::string objects;
  for (int i = 0; i < 100'000; ++i) objects += R"({"a":)";
  for (const std::string& text : {deep, std::string(300, '['), objects}) {
    const std::string path = scratch.write("deep.json", text);
    auto refused = load_manifest_file(path);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == "invalid_manifest");
    CHECK(refused.error().message.starts_with("manifest file \"" + path +
                                              "\": invalid JSON at offset "));
    CHECK(refused.error().message.find(": arrays and objects nested deeper than 256 levels") !=
          std::string::npos);
  }
}

TEST_CASE("load_manifest_beneath refuses names that leave the directory, follows links inside") {
  const TempDir scratch;
  const fs::path dir = scratch.path() / "manifests";
  fs::create_directories(dir / "..2024_01_01");
  scratch.write("outside.json", kValid);
  scratch.write("manifests/..2024_01_01/cm.json", kValid);
  fs::create_directory_symlink("..2024_01_01", dir / "..data");
  fs::create_symlink("..data/cm.json", dir / "cm.json");
  fs::create_symlink("../outside.json", dir / "escape.json");

  auto configmap = load_manifest_beneath(dir, "cm.json");
  REQUIRE_MESSAGE(configmap.ok(), configmap.error().message);
  CHECK(configmap->id == "m1");
  for (const std::string& name : {std::string("escape.json"), std::string("../outside.json"),
                                  (scratch.path() / "outside.json").string()}) {
    CAPTURE(name);
    auto refused = load_manifest_beneath(dir, name);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == "forbidden");
    CHECK(refused.error().message ==
          "manifestPath \"" + name + "\": must not leave the manifest directory");
  }
  auto missing = load_manifest_beneath(dir, "absent.json");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == "invalid_manifest");
  CHECK(missing.error().message ==
        "manifest file \"absent.json\": cannot read: No such file or directory");
  auto directory = load_manifest_beneath(dir, "..data");
  REQUIRE_FALSE(directory.ok());
  CHECK(directory.error().message == "manifest file \"..data\": cannot read: not a regular file");
  scratch.write("manifests/huge.json", std::string(2 * 1024 * 1024, ' '));
  auto too_large = load_manifest_beneath(dir, "huge.json");
  REQUIRE_FALSE(too_large.ok());
  CHECK(too_large.error().message == "manifest file \"huge.json\": larger than 1 MiB");
}

}  // namespace backfilld::migrations
