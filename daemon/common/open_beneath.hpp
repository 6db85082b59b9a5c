#pragma once
/// Opening a file named by untrusted input (a request, a record) without leaving the directory
/// it must stay in. The kernel resolves the name relative to the open directory, so there is no
/// window between a check and the open for a symlink to be swapped in.
#include <filesystem>
#include <string_view>
#include <utility>

#include "daemon/common/result.hpp"

namespace backfilld::common {

/// An owned file descriptor, closed when it goes out of scope.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();
  int get() const { return fd_; }

 private:
  int fd_ = -1;
};

/// Opens `relative` read-only (non-blocking, so a FIFO cannot hang the caller) inside
/// `directory`, refusing every name whose resolution leaves it: `..` above it, an absolute path,
/// a symlink to a file or directory outside, a chain of them, a /proc magic link. Symlinks that
/// stay inside are followed: a Kubernetes ConfigMap volume presents each file as a link into
/// `..data/`. Linux openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS does the
/// resolution; where the kernel lacks it (ENOSYS), both paths are resolved with
/// std::filesystem::canonical, compared by components, and the result opened with O_NOFOLLOW.
/// Errors: code "forbidden" when the name leaves the directory; code "io" otherwise, the message
/// saying why (e.g. "No such file or directory").
Result<UniqueFd> open_beneath(const std::filesystem::path& directory, std::string_view relative);

namespace detail {
/// open_beneath's fallback for kernels without openat2, exposed so tests run it everywhere.
Result<UniqueFd> open_beneath_by_canonical(const std::filesystem::path& directory,
                                           std::string_view relative);
}  // namespace detail

}  // namespace backfilld::common
