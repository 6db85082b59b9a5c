#pragma once
/// Where jobs and their checkpoints survive restarts and crashes. The seam the engine writes
/// through; FileStateStore is the embedded default, tests may fake it.
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/common/result.hpp"

namespace backfilld::state {

/// One stored record: a job's id and its JSON state, or why its file could not be read.
struct Record {
  std::string job_id;
  std::string json;
  std::string unreadable;  ///< "" when `json` holds the record
};

class StateStore {
 public:
  virtual ~StateStore() = default;
  /// Replaces the job's record atomically: after a crash at any moment, a load sees either the
  /// previous record or this one, never a mix.
  virtual common::Result<void> save(std::string_view job_id, std::string_view json) = 0;
  /// Every record, in job id order. A record that cannot be read comes back with `unreadable`
  /// set; only a failure to list the store itself is an error.
  virtual common::Result<std::vector<Record>> load_all() = 0;
  /// Moves a record that cannot be read or decoded out of the way, atomically and durably, kept
  /// for a person to look at and never loaded again. Returns where it went.
  virtual common::Result<std::string> set_aside(std::string_view job_id) = 0;
};

/// One file per job under a directory: `<job_id>.json`, written to a temp file in the same
/// directory, fsync'd, renamed over the old one, then the directory fsync'd. A record set aside
/// goes to `corrupt/<job_id>.json` (`.1`, `.2`... when that name is taken).
class FileStateStore final : public StateStore {
 public:
  /// Creates `directory` (mode 0700) when missing and checks it is writable; removes temp files
  /// a crash left behind. Errors name the path.
  static common::Result<std::unique_ptr<FileStateStore>> open(
      const std::filesystem::path& directory);

  common::Result<void> save(std::string_view job_id, std::string_view json) override;
  common::Result<std::vector<Record>> load_all() override;
  common::Result<std::string> set_aside(std::string_view job_id) override;
  const std::filesystem::path& directory() const { return directory_; }

 private:
  explicit FileStateStore(std::filesystem::path directory) : directory_(std::move(directory)) {}
  std::filesystem::path directory_;
};

/// True when `job_id` is safe as a file name: [A-Za-z0-9._-], 1..128 chars, not "." or "..".
bool valid_job_id(std::string_view job_id);

}  // namespace backfilld::state
