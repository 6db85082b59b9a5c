#include "daemon/state/state_store.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <system_error>
#include <thread>

namespace backfilld::state {
namespace {

namespace fs = std::filesystem;

/// A fresh directory under the system temp directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "backfilld-state-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ignored);
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::unique_ptr<FileStateStore> open_store(const fs::path& directory) {
  auto store = FileStateStore::open(directory);
  REQUIRE_MESSAGE(store.ok(), (store.ok() ? std::string() : store.error().message));
  return std::move(*store);
}

std::vector<std::string> names_in(const fs::path& directory) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(directory)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

void write_file(const fs::path& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary);
  out << contents;
  REQUIRE(out.good());
}

fs::perms mode_of(const fs::path& path) { return fs::status(path).permissions() & fs::perms::mask; }

}  // namespace

TEST_CASE("valid_job_id accepts file-safe ids only") {
  CHECK(valid_job_id("notes"));
  CHECK(valid_job_id("enc-2024.06_notes-0"));
  CHECK(valid_job_id(std::string(128, 'a')));
  CHECK_FALSE(valid_job_id(""));
  CHECK_FALSE(valid_job_id("."));
  CHECK_FALSE(valid_job_id(".."));
  CHECK_FALSE(valid_job_id(std::string(129, 'a')));
  for (std::string_view bad : {"a/b", "../x", "a b", "a\\b", "é", "a\nb", "a:b"}) {
    CHECK_MESSAGE(!valid_job_id(bad), bad);
  }
  CHECK_FALSE(valid_job_id(std::string_view("a\0b", 3)));
}

TEST_CASE("open creates the directory with mode 0700 and records are 0600") {
  TempDir temp;
  const auto directory = temp.path() / "nested" / "state";
  auto store = open_store(directory);
  CHECK(store->directory() == directory);
  CHECK(fs::is_directory(directory));
  CHECK(mode_of(directory) == fs::perms::owner_all);
  REQUIRE(store->save("job-1", "{}").ok());
  CHECK(mode_of(directory / "job-1.json") == (fs::perms::owner_read | fs::perms::owner_write));
  // The writability probe leaves nothing behind.
  CHECK(names_in(directory) == std::vector<std::string>{"job-1.json"});
}

TEST_CASE("records round-trip, sorted by job id") {
  TempDir temp;
  auto store = open_store(temp.path());
  const std::string binary("{\"x\":\"\x01\x00\xff\"}", 12);
  REQUIRE(store->save("notes-b", R"({"token":"b"})").ok());
  REQUIRE(store->save("notes-a", R"({"token":"a"})").ok());
  REQUIRE(store->save("z", binary).ok());
  REQUIRE(store->save("empty", "").ok());

  // A second store over the same directory (a restart) sees the same records.
  auto reopened = open_store(temp.path());
  auto records = reopened->load_all();
  REQUIRE(records.ok());
  REQUIRE(records->size() == 4);
  CHECK((*records)[0].job_id == "empty");
  CHECK((*records)[0].json.empty());
  CHECK((*records)[1].job_id == "notes-a");
  CHECK((*records)[1].json == R"({"token":"a"})");
  CHECK((*records)[2].job_id == "notes-b");
  CHECK((*records)[2].json == R"({"token":"b"})");
  CHECK((*records)[3].job_id == "z");
  CHECK((*records)[3].json == binary);
}

TEST_CASE("an empty directory loads no records") {
  TempDir temp;
  auto records = open_store(temp.path())->load_all();
  REQUIRE(records.ok());
  CHECK(records->empty());
}

TEST_CASE("save replaces the record and leaves only the newest file") {
  TempDir temp;
  auto store = open_store(temp.path());
  REQUIRE(store->save("job", std::string(10'000, 'x')).ok());
  REQUIRE(store->save("job", "short").ok());
  REQUIRE(store->save("job", "newest").ok());
  auto records = store->load_all();
  REQUIRE(records.ok());
  REQUIRE(records->size() == 1);
  CHECK((*records)[0].json == "newest");
  CHECK(names_in(temp.path()) == std::vector<std::string>{"job.json"});
}

TEST_CASE("leftover temp files are ignored by load_all and removed by open") {
  TempDir temp;
  {
    auto store = open_store(temp.path());
    REQUIRE(store->save("job", "committed").ok());
  }
  // What a crash between create and rename leaves, including for ids that look like temp names.
  write_file(temp.path() / ".job.json.tmp-4242-7", "torn");
  write_file(temp.path() / ".other.json.tmp-1-0", "");
  // Files that are not ours stay untouched.
  write_file(temp.path() / "README.txt", "operator notes");
  write_file(temp.path() / ".job.json.tmp-x-1", "not our pattern");

  auto store = open_store(temp.path());
  CHECK(names_in(temp.path()) ==
        std::vector<std::string>{".job.json.tmp-x-1", "README.txt", "job.json"});
  auto records = store->load_all();
  REQUIRE(records.ok());
  REQUIRE(records->size() == 1);
  CHECK((*records)[0].json == "committed");
}

TEST_CASE("load_all ignores temp files written after open") {
  TempDir temp;
  auto store = open_store(temp.path());
  REQUIRE(store->save("job", "committed").ok());
  write_file(temp.path() / ".job.json.tmp-4242-7", "torn");
  auto records = store->load_all();
  REQUIRE(records.ok());
  REQUIRE(records->size() == 1);
  CHECK((*records)[0].job_id == "job");
  CHECK((*records)[0].json == "committed");
}

TEST_CASE("a job id that starts with a dot is a record, not a temp file") {
  TempDir temp;
  {
    auto store = open_store(temp.path());
    REQUIRE(store->save(".job.json.tmp-1-2", "dotted").ok());
  }
  auto records = open_store(temp.path())->load_all();
  REQUIRE(records.ok());
  REQUIRE(records->size() == 1);
  CHECK((*records)[0].job_id == ".job.json.tmp-1-2");
  CHECK((*records)[0].json == "dotted");
}

TEST_CASE("save refuses an invalid job id and names it") {
  TempDir temp;
  auto store = open_store(temp.path());
  for (std::string_view bad : {"../escape", "a/b", "", "..", "with space"}) {
    auto saved = store->save(bad, "{}");
    REQUIRE_FALSE(saved.ok());
    CHECK(saved.error().code == "invalid_job_id");
    // Appended, not `"\"" + std::string(bad)`: g++ 12's -Wrestrict false positive at -O3 (GCC PR
    // 105329).
    const std::string quoted = std::string("\"").append(bad).append("\"");
    CHECK_MESSAGE(saved.error().message.find(quoted) != std::string::npos, saved.error().message);
  }
  // Control characters are shown escaped, so the message is safe to log.
  auto saved = store->save("a\nb", "{}");
  REQUIRE_FALSE(saved.ok());
  CHECK(saved.error().message.find("a\\x0ab") != std::string::npos);
  CHECK(names_in(temp.path()).empty());
  CHECK_FALSE(fs::exists(temp.path().parent_path() / "escape.json"));
}

TEST_CASE("a state path that is not a directory gives an error naming it") {
  TempDir temp;
  const auto file = temp.path() / "plain-file";
  write_file(file, "x");
  auto store = FileStateStore::open(file);
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().code == "state_io");
  CHECK(store.error().message.find(file.string()) != std::string::npos);

  auto below = FileStateStore::open(file / "state");
  REQUIRE_FALSE(below.ok());
  CHECK(below.error().message.find(file.string()) != std::string::npos);
}

TEST_CASE(
    "a record that cannot be read comes back unreadable, naming the file; set_aside moves it") {
  TempDir temp;
  auto store = open_store(temp.path());
  REQUIRE(store->save("good", "{}").ok());
  fs::create_directory(temp.path() / "broken.json");
  REQUIRE(::mkfifo((temp.path() / "fifo.json").c_str(), 0600) == 0);  // must not hang the load
  auto records = store->load_all();
  REQUIRE(records.ok());  // one file is one job's problem, never the store's
  REQUIRE(records->size() == 3);
  CHECK((*records)[0].job_id == "broken");
  CHECK((*records)[0].unreadable ==
        "cannot read " + (temp.path() / "broken.json").string() + ": not a regular file");
  CHECK((*records)[1].job_id == "fifo");
  CHECK((*records)[1].unreadable.find((temp.path() / "fifo.json").string()) != std::string::npos);
  CHECK((*records)[2].job_id == "good");
  CHECK((*records)[2].unreadable.empty());
  CHECK((*records)[2].json == "{}");

  auto moved = store->set_aside("broken");
  REQUIRE_MESSAGE(moved.ok(), moved.error().message);
  CHECK(*moved == (temp.path() / "corrupt" / "broken.json").string());
  CHECK(fs::is_directory(temp.path() / "corrupt" / "broken.json"));
  CHECK_FALSE(fs::exists(temp.path() / "broken.json"));
  // The same name again keeps the first copy.
  REQUIRE(store->save("broken", "{").ok());
  auto again = store->set_aside("broken");
  REQUIRE(again.ok());
  CHECK(*again == (temp.path() / "corrupt" / "broken.json.1").string());
  CHECK_FALSE(store->set_aside("absent").ok());
  auto left = store->load_all();
  REQUIRE(left.ok());
  CHECK(left->size() == 2);  // corrupt/ is never loaded
}

TEST_CASE("an unwritable directory gives an error naming the path") {
  TempDir temp;
  const auto directory = temp.path() / "state";
  auto store = open_store(directory);
  fs::permissions(directory, fs::perms::owner_read | fs::perms::owner_exec);

  // Root (CAP_DAC_OVERRIDE) writes anyway: find out rather than assume from the uid.
  const auto canary = directory / "canary";
  const int fd = ::open(canary.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd >= 0) {
    ::close(fd);
    fs::remove(canary);
    MESSAGE(
        "skipped: permissions are not enforced for this user (root?); an unwritable "
        "directory cannot be made");
    return;
  }

  auto reopened = FileStateStore::open(directory);
  REQUIRE_FALSE(reopened.ok());
  CHECK(reopened.error().code == "state_io");
  CHECK_MESSAGE(reopened.error().message.find(directory.string()) != std::string::npos,
                reopened.error().message);

  auto saved = store->save("job", "{}");
  REQUIRE_FALSE(saved.ok());
  CHECK(saved.error().code == "state_io");
  CHECK_MESSAGE(saved.error().message.find(directory.string()) != std::string::npos,
                saved.error().message);
}

// The proof of the atomic replace: a process killed at any moment while saving leaves either the
// previous record or the new one on disk, never a torn or empty file.
TEST_CASE("a process killed mid-save leaves the old or the new record, whole") {
  TempDir temp;
  const std::string a = "{\"v\":\"" + std::string(1 << 20, 'a') + "\"}";
  const std::string b = "{\"v\":\"" + std::string((1 << 20) + 4096, 'b') + "\"}";
  std::mt19937 random(std::random_device{}());
  // Up to 16 kills, fewer on a slow disk so the test stays under ~1.5 s; at least 4.
  constexpr int kMaxKills = 16;
  constexpr int kMinKills = 4;
  constexpr auto kBudget = std::chrono::milliseconds(1500);
  int saw_a = 0;
  int saw_b = 0;
  long mid_save = 0;  // kills that left a temp file: they landed inside a save
  const auto started = std::chrono::steady_clock::now();

  // Opened before any crash, like a daemon's store that outlives a failed writer.
  auto running_store = open_store(temp.path());

  auto check_whole = [&](FileStateStore& store, int kill) {
    auto records = store.load_all();
    REQUIRE(records.ok());
    REQUIRE(records->size() == 1);
    const std::string& loaded = (*records)[0].json;
    const bool is_a = loaded == a;
    REQUIRE_MESSAGE((is_a || loaded == b),
                    "torn record after kill " << kill << ": " << loaded.size() << " bytes");
    return is_a;
  };

  int kills = 0;
  for (; kills < kMaxKills &&
         (kills < kMinKills || std::chrono::steady_clock::now() - started < kBudget);
       ++kills) {
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::close(ready[0]);
      auto store = FileStateStore::open(temp.path());
      if (!store.ok()) ::_exit(2);
      for (std::uint64_t i = 0;; ++i) {
        if (!(*store)->save("job", i % 2 == 0 ? a : b).ok()) ::_exit(3);
        // After the first save the record exists; from then on any moment is a fair kill.
        if (i == 0 && ::write(ready[1], "r", 1) != 1) ::_exit(4);
      }
    }
    ::close(ready[1]);
    char byte = 0;
    const bool child_ready = ::read(ready[0], &byte, 1) == 1;
    ::close(ready[0]);
    // A random moment within a few saves: choosing when to kill, not waiting for something.
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution<int>(0, 30'000)(random)));
    ::kill(child, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE_MESSAGE(child_ready, "the child failed before its first save");
    REQUIRE_MESSAGE((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL),
                    "the child exited on its own, status " << status);

    const auto left_behind = names_in(temp.path());
    mid_save += std::count_if(left_behind.begin(), left_behind.end(), [](const std::string& name) {
      return name.find(".json.tmp-") != std::string::npos;
    });

    // With the kill's temp file still there, then as a restarted daemon sees it (open removes
    // the temp file).
    const bool is_a = check_whole(*running_store, kills);
    CHECK(check_whole(*open_store(temp.path()), kills) == is_a);
    saw_a += is_a;
    saw_b += !is_a;
    CHECK(names_in(temp.path()) == std::vector<std::string>{"job.json"});
  }
  const auto elapsed = std::chrono::steady_clock::now() - started;
  MESSAGE(kills << " kills; they left A: " << saw_a << ", B: " << saw_b
                << ", a temp file (killed inside a save): " << mid_save << ", in "
                << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms");
}

}  // namespace backfilld::state
