#include "daemon/common/open_beneath.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace backfilld::common {
namespace {

// Read-only; non-blocking so that opening a FIFO returns at once (the caller's fstat refuses
// anything but a regular file); never a controlling terminal.
constexpr int kOpenFlags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
// openat2 answers EAGAIN when a rename or mount raced the resolution; a few tries settle it.
constexpr int kRaceRetries = 8;

Unexpected<Error> leaves() { return fail("forbidden", "the path leaves the directory"); }

Unexpected<Error> io(int error) { return fail("io", std::system_category().message(error)); }

/// Refuses, by its text alone, a name that cannot stay inside whatever the files are: empty,
/// absolute, or `..` above the start once normalized. The kernel (or the canonical check)
/// decides the rest, where symlinks count.
Result<void> check_name(std::string_view relative) {
  if (relative.find('\0') != std::string_view::npos) {
    return fail("io", "the path contains a NUL byte");
  }
  if (relative.empty()) return fail("io", "the path is empty");
  const std::filesystem::path name(relative);
  if (name.has_root_path()) return leaves();
  const std::filesystem::path normal = name.lexically_normal();
  if (!normal.empty() && *normal.begin() == "..") return leaves();
  return {};
}

/// True when `inside` is `base` or below it, comparing whole components.
bool within(const std::filesystem::path& base, const std::filesystem::path& inside) {
  auto at = inside.begin();
  for (const auto& part : base) {
    if (at == inside.end() || *at != part) return false;
    ++at;
  }
  return true;
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

Result<UniqueFd> open_beneath(const std::filesystem::path& directory, std::string_view relative) {
  if (auto name = check_name(relative); !name) return Unexpected{name.error()};
  UniqueFd base(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (base.get() < 0) return io(errno);
  open_how how{};
  how.flags = kOpenFlags;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  const std::string name(relative);
  for (int attempt = 0;; ++attempt) {
    const long fd = ::syscall(SYS_openat2, base.get(), name.c_str(), &how, sizeof how);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    const int error = errno;
    if (error == ENOSYS) return detail::open_beneath_by_canonical(directory, relative);
    if (error == EXDEV) return leaves();
    if ((error == EAGAIN && attempt < kRaceRetries) || error == EINTR) continue;
    return io(error);
  }
}

namespace detail {

Result<UniqueFd> open_beneath_by_canonical(const std::filesystem::path& directory,
                                           std::string_view relative) {
  if (auto name = check_name(relative); !name) return Unexpected{name.error()};
  std::error_code error;
  const std::filesystem::path base = std::filesystem::canonical(directory, error);
  if (error) return io(error.value());
  // Weakly: a missing file is "No such file" from open, unless its existing part leaves already.
  const std::filesystem::path target =
      std::filesystem::weakly_canonical(base / std::filesystem::path(relative), error);
  if (error) return io(error.value());
  if (!within(base, target)) return leaves();
  int fd;
  do {
    fd = ::open(target.c_str(), kOpenFlags | O_NOFOLLOW);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return io(errno);
  return UniqueFd(fd);
}

}  // namespace detail
}  // namespace backfilld::common
