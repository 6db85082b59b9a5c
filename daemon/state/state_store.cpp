#include "daemon/state/state_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>

namespace backfilld::state {
namespace {

constexpr std::string_view kRecordSuffix = ".json";
constexpr std::string_view kTempMarker = ".json.tmp-";
constexpr std::size_t kMaxJobIdLength = 128;
constexpr std::string_view kSetAsideDirectory = "corrupt";
constexpr int kMaxSetAsideCopies = 1000;

// Distinguishes the temp files of concurrent saves within one process; the pid separates
// processes sharing a directory.
std::atomic<std::uint64_t> temp_sequence{0};

std::string errno_text(int error) { return std::system_category().message(error); }

common::Unexpected<common::Error> io_error(std::string_view what,
                                           const std::filesystem::path& path,
                                           int error) {
  return common::fail("state_io",
                      std::string(what) + " " + path.string() + ": " + errno_text(error));
}

// The id as it can be shown in an error: printable, bounded.
std::string printable_id(std::string_view job_id) {
  constexpr std::size_t kShown = 64;
  std::string shown;
  for (char c : job_id.substr(0, kShown)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f || c == '"' || c == '\\') {
      static constexpr char kHex[] = "0123456789abcdef";
      shown += "\\x";
      shown += kHex[byte >> 4];
      shown += kHex[byte & 0xf];
    } else {
      shown += c;
    }
  }
  if (job_id.size() > kShown) shown += "...";
  return shown;
}

// `.<id>.json.tmp-<pid>-<n>`: hidden, and never ending in ".json", so load_all skips it.
// Appended piece by piece: `"." + std::string(base)` trips g++ 12's -Wrestrict false positive
// at -O3 (GCC PR 105329; tests/run.sh compiles this file with Release flags).
std::string temp_name(std::string_view base) {
  std::string name = ".";
  name += base;
  name += kTempMarker;
  name += std::to_string(::getpid());
  name += '-';
  name += std::to_string(temp_sequence.fetch_add(1, std::memory_order_relaxed));
  return name;
}

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// True for names temp_name produces: "." + base + ".json.tmp-" + digits + "-" + digits. A record
// file always ends in ".json", so it never matches.
bool is_temp_name(std::string_view name) {
  if (name.size() < 2 || name.front() != '.') return false;
  const auto marker = name.rfind(kTempMarker);
  if (marker == std::string_view::npos || marker < 2) return false;
  const auto numbers = name.substr(marker + kTempMarker.size());
  const auto dash = numbers.find('-');
  return dash != std::string_view::npos && all_digits(numbers.substr(0, dash)) &&
         all_digits(numbers.substr(dash + 1));
}

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  // Closes now and reports the error; on Linux the descriptor is gone even after EINTR, and the
  // data was fsync'd before, so EINTR is not a failure.
  int close() {
    const int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0 && errno != EINTR) return errno;
    return 0;
  }

 private:
  int fd_;
};

int open_retrying(const char* path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path, flags, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

// Writes every byte: write() may be interrupted or write less than asked.
int write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<std::size_t>(written));
  }
  return 0;
}

int fsync_retrying(int fd) {
  while (::fsync(fd) != 0) {
    if (errno != EINTR) return errno;
  }
  return 0;
}

common::Result<void> fsync_directory(const std::filesystem::path& directory) {
  FileDescriptor fd(open_retrying(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return io_error("cannot open directory", directory, errno);
  if (const int error = fsync_retrying(fd.get())) {
    return io_error("cannot fsync directory", directory, error);
  }
  return {};
}

// Writes `data` to a new file at `path` (mode 0600) and makes it durable. Leaves no file behind
// on failure.
common::Result<void> write_durable_file(const std::filesystem::path& path, std::string_view data) {
  FileDescriptor fd(
      open_retrying(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) return io_error("cannot create", path, errno);
  int error = write_all(fd.get(), data);
  const char* what = "cannot write";
  if (error == 0) {
    error = fsync_retrying(fd.get());
    what = "cannot fsync";
  }
  if (error == 0) {
    error = fd.close();
    what = "cannot close";
  }
  if (error != 0) {
    ::unlink(path.c_str());
    return io_error(what, path, error);
  }
  return {};
}

common::Result<std::string> read_file(const std::filesystem::path& path) {
  // Non-blocking: a FIFO under the name would otherwise hang the start; fstat refuses it.
  FileDescriptor fd(open_retrying(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (fd.get() < 0) return io_error("cannot open", path, errno);
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return io_error("cannot stat", path, errno);
  if (!S_ISREG(info.st_mode)) {
    return common::fail("state_io", "cannot read " + path.string() + ": not a regular file");
  }
  std::string contents;
  contents.reserve(static_cast<std::size_t>(info.st_size));
  char buffer[64 * 1024];
  for (;;) {
    const ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
    if (got < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot read", path, errno);
    }
    if (got == 0) break;
    contents.append(buffer, static_cast<std::size_t>(got));
  }
  return contents;
}

// The names in `directory`, without "." and "..".
common::Result<std::vector<std::string>> list_directory(const std::filesystem::path& directory) {
  DIR* stream = ::opendir(directory.c_str());
  if (stream == nullptr) return io_error("cannot list directory", directory, errno);
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(stream);
    if (entry == nullptr) break;
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  const int error = errno;
  ::closedir(stream);
  if (error != 0) return io_error("cannot list directory", directory, error);
  return names;
}

common::Result<void> ensure_directory(const std::filesystem::path& directory) {
  struct stat info {};
  if (::stat(directory.c_str(), &info) == 0) {
    if (!S_ISDIR(info.st_mode)) return io_error("not a directory:", directory, ENOTDIR);
    return {};
  }
  if (errno != ENOENT) return io_error("cannot stat", directory, errno);
  if (directory.has_parent_path()) {
    std::error_code error;
    std::filesystem::create_directories(directory.parent_path(), error);
    if (error) return io_error("cannot create directory", directory.parent_path(), error.value());
  }
  if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) {
    return io_error("cannot create directory", directory, errno);
  }
  return {};
}

}  // namespace

bool valid_job_id(std::string_view job_id) {
  if (job_id.empty() || job_id.size() > kMaxJobIdLength) return false;
  if (job_id == "." || job_id == "..") return false;
  return std::all_of(job_id.begin(), job_id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

common::Result<std::unique_ptr<FileStateStore>> FileStateStore::open(
    const std::filesystem::path& directory) {
  if (directory.empty()) return common::fail("state_io", "the state directory is not set");
  if (auto created = ensure_directory(directory); !created)
    return common::Unexpected{created.error()};

  auto names = list_directory(directory);
  if (!names) return common::Unexpected{names.error()};
  for (const auto& name : *names) {
    if (!is_temp_name(name)) continue;
    const auto leftover = directory / name;
    if (::unlink(leftover.c_str()) != 0 && errno != ENOENT) {
      return io_error("cannot remove leftover temp file", leftover, errno);
    }
  }

  // Writable means a file can be created, written and made durable: try exactly that now, so a
  // misconfigured directory fails at start-up rather than at the first checkpoint.
  const auto probe = directory / temp_name("probe");
  if (auto written = write_durable_file(probe, "{}"); !written) {
    return common::fail("state_io", "state directory " + directory.string() +
                                        " is not writable: " + written.error().message);
  }
  ::unlink(probe.c_str());

  return std::unique_ptr<FileStateStore>(new FileStateStore(directory));
}

common::Result<void> FileStateStore::save(std::string_view job_id, std::string_view json) {
  if (!valid_job_id(job_id)) {
    return common::fail("invalid_job_id",
                        "job id \"" + printable_id(job_id) +
                            "\" cannot name a state file: use 1 to 128 of [A-Za-z0-9._-]");
  }
  const auto final_path = directory_ / (std::string(job_id) + std::string(kRecordSuffix));
  const auto temp_path = directory_ / temp_name(job_id);
  if (auto written = write_durable_file(temp_path, json); !written) return written;
  if (::rename(temp_path.c_str(), final_path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp_path.c_str());
    return io_error("cannot rename " + temp_path.string() + " to", final_path, error);
  }
  // The rename is durable only once the directory entry is.
  return fsync_directory(directory_);
}

common::Result<std::vector<Record>> FileStateStore::load_all() {
  auto names = list_directory(directory_);
  if (!names) return common::Unexpected{names.error()};
  std::vector<Record> records;
  for (const auto& name : *names) {
    const std::string_view view = name;
    if (view.size() <= kRecordSuffix.size() || !view.ends_with(kRecordSuffix)) continue;
    const auto job_id = view.substr(0, view.size() - kRecordSuffix.size());
    // save() never writes any other name; whatever else is here is not ours.
    if (!valid_job_id(job_id)) continue;
    // A file that cannot be read is one job's problem, never the whole store's.
    auto contents = read_file(directory_ / name);
    if (!contents) {
      records.push_back(Record{std::string(job_id), {}, contents.error().message});
      continue;
    }
    records.push_back(Record{std::string(job_id), std::move(*contents), {}});
  }
  std::sort(records.begin(), records.end(),
            [](const Record& a, const Record& b) { return a.job_id < b.job_id; });
  return records;
}

common::Result<std::string> FileStateStore::set_aside(std::string_view job_id) {
  if (!valid_job_id(job_id)) {
    return common::fail("invalid_job_id", "job id \"" + printable_id(job_id) + "\" names no file");
  }
  const auto aside = directory_ / kSetAsideDirectory;
  if (::mkdir(aside.c_str(), 0700) != 0 && errno != EEXIST) {
    return io_error("cannot create directory", aside, errno);
  }
  FileDescriptor from(open_retrying(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (from.get() < 0) return io_error("cannot open directory", directory_, errno);
  FileDescriptor to(open_retrying(aside.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  if (to.get() < 0) return io_error("cannot open directory", aside, errno);
  const std::string name = std::string(job_id) + std::string(kRecordSuffix);
  // Never over an earlier set-aside copy: RENAME_NOREPLACE fails with EEXIST, then a suffix.
  for (int copy = 0; copy < kMaxSetAsideCopies; ++copy) {
    const std::string target = copy == 0 ? name : name + "." + std::to_string(copy);
    int moved = ::renameat2(from.get(), name.c_str(), to.get(), target.c_str(), RENAME_NOREPLACE);
    if (moved != 0 && errno == EINVAL) {
      // A file system without RENAME_NOREPLACE: only this process writes here, so a check first
      // is enough.
      struct stat existing {};
      if (::fstatat(to.get(), target.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0) continue;
      moved = ::renameat(from.get(), name.c_str(), to.get(), target.c_str());
    }
    if (moved == 0) {
      if (const int error = fsync_retrying(to.get())) {
        return io_error("cannot fsync directory", aside, error);
      }
      if (const int error = fsync_retrying(from.get())) {
        return io_error("cannot fsync directory", directory_, error);
      }
      return (aside / target).string();
    }
    if (errno != EEXIST) {
      return io_error("cannot move " + (directory_ / name).string() + " to", aside / target, errno);
    }
  }
  return io_error("cannot move " + (directory_ / name).string() + " to", aside, EEXIST);
}

}  // namespace backfilld::state
