// Manifest files (declared in manifest.hpp): read by a trusted path or confined to a directory,
// then validated.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string>
#include <system_error>

#include "daemon/common/json.hpp"
#include "daemon/common/open_beneath.hpp"
#include "migrations/manifest.hpp"
#include "migrations/manifest_schema.hpp"

namespace backfilld::migrations {
namespace {

constexpr std::size_t kMaxManifestFileBytes = 1024 * 1024;

common::Unexpected<common::Error> invalid(std::string message) {
  return common::fail("invalid_manifest", std::move(message));
}

std::string errno_text(int error) { return std::system_category().message(error); }

/// A line:column position of byte `offset` in `text`, both from 1.
std::string line_and_column(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  const std::string_view before = text.substr(0, offset);
  const std::size_t line =
      1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
  const std::size_t line_start = before.rfind('\n');
  const std::size_t column =
      offset - (line_start == std::string_view::npos ? 0 : line_start + 1) + 1;
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

/// "manifest file "<name>": ", the prefix of every error about one file.
std::string where_of(std::string_view name) { return "manifest file " + in_quotes(name) + ": "; }

/// Reads the regular file open at `fd` (1 MiB at most) and validates it.
common::Result<Manifest> read_manifest(int fd, const std::string& where) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) return invalid(where + "cannot read: " + errno_text(errno));
  if (!S_ISREG(info.st_mode)) return invalid(where + "cannot read: not a regular file");
  std::string text;
  std::array<char, 8192> buffer;
  for (;;) {
    const ssize_t got = ::read(fd, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return invalid(where + "cannot read: " + errno_text(errno));
    if (got == 0) break;
    text.append(buffer.data(), static_cast<std::size_t>(got));
    if (text.size() > kMaxManifestFileBytes) return invalid(where + "larger than 1 MiB");
  }
  return parse_manifest_text(text, where);
}

}  // namespace

common::Result<Manifest> parse_manifest_text(std::string_view text, std::string_view where) {
  const std::string prefix(where);
  if (text.size() > kMaxManifestFileBytes) return invalid(prefix + "larger than 1 MiB");
  rapidjson::Document document;
  if (const auto failure = common::parse_exact(document, text)) {
    return invalid(prefix + "invalid JSON at offset " + std::to_string(failure->offset) + " (" +
                   line_and_column(text, failure->offset) + "): " + failure->reason);
  }
  auto manifest = parse_manifest(document);
  if (!manifest) return invalid(prefix + manifest.error().message);
  return manifest;
}

common::Result<Manifest> load_manifest_file(const std::string& path) {
  const std::string where = where_of(path);
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return invalid(where + "cannot read: " + errno_text(errno));
  const common::UniqueFd file(fd);
  return read_manifest(file.get(), where);
}

common::Result<Manifest> load_manifest_beneath(const std::filesystem::path& directory,
                                               const std::string& relative) {
  const std::string where = where_of(relative);
  auto file = common::open_beneath(directory, relative);
  if (!file) {
    if (file.error().code == "forbidden") {
      return common::fail("forbidden", "manifestPath " + in_quotes(relative) +
                                           ": must not leave the manifest directory");
    }
    return invalid(where + "cannot read: " + file.error().message);
  }
  return read_manifest(file->get(), where);
}

}  // namespace backfilld::migrations
