#include "daemon/common/open_beneath.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace backfilld::common {
namespace {

namespace fs = std::filesystem;

/// A directory of manifests with every shape of symlink, beside files it must not reach:
///   root/secret.json, root/outside/secret.json      (outside)
///   root/manifests/                                 (the directory)
///     good.json, sub/inner.json                     plain files
///     ..2024_01_01/cm.json, ..data -> ..2024_01_01, cm.json -> ..data/cm.json  (a ConfigMap)
///     inner-link -> sub/inner.json                  a link that stays inside
///     to-etc -> /etc/passwd, to-outside -> ../secret.json, outdir -> ../outside,
///     chain1 -> chain2 -> ../secret.json            links that leave
///     loop -> loop                                  a link to itself
class ManifestTree {
 public:
  ManifestTree() {
    std::string pattern = (fs::temp_directory_path() / "backfilld-beneath-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    root_ = pattern;
    write(root_ / "secret.json", "secret");
    fs::create_directories(root_ / "outside");
    write(root_ / "outside" / "secret.json", "outside secret");
    const fs::path dir = directory();
    fs::create_directories(dir / "sub");
    fs::create_directories(dir / "..2024_01_01");
    write(dir / "good.json", "good");
    write(dir / "sub" / "inner.json", "inner");
    write(dir / "..2024_01_01" / "cm.json", "configmap");
    fs::create_directory_symlink("..2024_01_01", dir / "..data");
    fs::create_symlink("..data/cm.json", dir / "cm.json");
    fs::create_symlink("sub/inner.json", dir / "inner-link");
    fs::create_symlink("/etc/passwd", dir / "to-etc");
    fs::create_symlink("../secret.json", dir / "to-outside");
    fs::create_directory_symlink("../outside", dir / "outdir");
    fs::create_symlink("chain2", dir / "chain1");
    fs::create_symlink("../secret.json", dir / "chain2");
    fs::create_symlink("loop", dir / "loop");
  }
  ~ManifestTree() {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }
  ManifestTree(const ManifestTree&) = delete;
  ManifestTree& operator=(const ManifestTree&) = delete;

  fs::path directory() const { return root_ / "manifests"; }
  const fs::path& root() const { return root_; }

 private:
  static void write(const fs::path& path, std::string_view text) {
    std::ofstream(path, std::ios::binary) << text;
  }
  fs::path root_;
};

std::string read_all(int fd) {
  std::string text;
  char buffer[256];
  for (ssize_t got; (got = ::read(fd, buffer, sizeof buffer)) > 0;) {
    text.append(buffer, static_cast<std::size_t>(got));
  }
  return text;
}

using Opener = Result<UniqueFd> (*)(const fs::path&, std::string_view);

}  // namespace

TEST_CASE("open_beneath opens names inside the directory, ConfigMap links included") {
  const ManifestTree tree;
  for (Opener open : {&open_beneath, &detail::open_beneath_by_canonical}) {
    for (const auto& expected :
         std::initializer_list<std::pair<std::string, std::string>>{{"good.json", "good"},
                                                                    {"./good.json", "good"},
                                                                    {"sub/inner.json", "inner"},
                                                                    {"sub/../good.json", "good"},
                                                                    {"cm.json", "configmap"},
                                                                    {"..data/cm.json", "configmap"},
                                                                    {"inner-link", "inner"}}) {
      CAPTURE(expected.first);
      auto file = open(tree.directory(), expected.first);
      REQUIRE_MESSAGE(file.ok(), file.error().message);
      CHECK(read_all(file->get()) == expected.second);
    }
  }
}

TEST_CASE("open_beneath refuses every name that leaves the directory, whatever the spelling") {
  const ManifestTree tree;
  for (Opener open : {&open_beneath, &detail::open_beneath_by_canonical}) {
    for (const std::string& name :
         {std::string("../secret.json"), std::string("sub/../../secret.json"),
          std::string("./../secret.json"), std::string("absent/../../secret.json"),
          std::string("/etc/passwd"), (tree.root() / "secret.json").string(), std::string("to-etc"),
          std::string("to-outside"), std::string("outdir/secret.json"), std::string("chain1"),
          std::string("sub/../to-outside"), std::string("..")}) {
      CAPTURE(name);
      auto file = open(tree.directory(), name);
      REQUIRE_FALSE(file.ok());
      CHECK(file.error().code == "forbidden");
    }
  }
}

TEST_CASE("open_beneath says why a name inside cannot be opened") {
  const ManifestTree tree;
  for (Opener open : {&open_beneath, &detail::open_beneath_by_canonical}) {
    auto absent = open(tree.directory(), "absent.json");
    REQUIRE_FALSE(absent.ok());
    CHECK(absent.error().code == "io");
    CHECK(absent.error().message == "No such file or directory");
    auto loop = open(tree.directory(), "loop");
    REQUIRE_FALSE(loop.ok());
    CHECK(loop.error().code == "io");
    auto empty = open(tree.directory(), "");
    REQUIRE_FALSE(empty.ok());
    CHECK(empty.error().code == "io");
    auto nul = open(tree.directory(), std::string_view("good.json\0../x", 14));
    REQUIRE_FALSE(nul.ok());
    CHECK(nul.error().message == "the path contains a NUL byte");
  }
  // A FIFO opens at once (non-blocking); the caller's fstat tells it is no regular file.
  REQUIRE(::mkfifo((tree.directory() / "fifo").c_str(), 0600) == 0);
  auto fifo = open_beneath(tree.directory(), "fifo");
  REQUIRE(fifo.ok());
  struct stat info {};
  REQUIRE(::fstat(fifo->get(), &info) == 0);
  CHECK(S_ISFIFO(info.st_mode));
}

}  // namespace backfilld::common
