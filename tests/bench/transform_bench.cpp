// Documents per second on one core for the per-document work of an encrypt-fields run: parse,
// transform (EncryptFields, live, random IVs) and write back, on ~1 KB NoteLett-like documents.
// Rates are per CPU second of the benchmark's thread, so a busy machine disturbs them less (caches
// and frequency still vary: compare runs made one after the other). Not a test: run it by hand,
//   ./build/tests/bench/transform_bench [seconds per row, default 1] [only rows containing this]
//   ./build/tests/bench/transform_bench 2 "notes parse + encrypt"
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/common/json.hpp"
#include "daemon/crypto/keyring.hpp"
#include "migrations/envelope_fields.hpp"
#include "migrations/transform.hpp"

namespace backfilld::bench {
namespace {

/// CPU seconds of this thread: the machine may be shared, and only this core's work counts.
double thread_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

constexpr const char* kWords[] = {
    "meeting",    "notes", "the",     "plan",  "for",      "Q3",       "review",
    "café",       "naïve", "draft",   "中文",  "テキスト", "😀",        "ship",
    "\"quoted\"", "a\\b",  "path/to", "TODO:", "- [ ]",    "**bold**", "résumé",
    "deadline",   "✓",     "→",       "and",   "with",     "owner"};

std::string words(std::mt19937& random, std::size_t bytes) {
  std::string text;
  std::uniform_int_distribution<std::size_t> pick(0, std::size(kWords) - 1);
  std::uniform_int_distribution<int> separator(0, 11);
  while (text.size() < bytes) {
    text += kWords[pick(random)];
    const int s = separator(random);
    text += s == 0 ? "\n" : s == 1 ? "\n\n" : s == 2 ? "\t" : " ";
  }
  return text;
}

rapidjson::Value string_value(const std::string& text, rapidjson::Document::AllocatorType& a) {
  return rapidjson::Value(text.c_str(), static_cast<rapidjson::SizeType>(text.size()), a);
}

/// The JSON text of a note as Cosmos returns it (system properties included), ~1 KB.
std::string note_text(std::mt19937& random, int n) {
  rapidjson::Document note(rapidjson::kObjectType);
  auto& a = note.GetAllocator();
  const std::string id = "note-" + std::to_string(n) + "-3f6c2a9e-8d41-4c7b-a1f0-5e2d9b7c4a18";
  note.AddMember("id", string_value(id, a), a);
  note.AddMember("workspaceId", "ws-7d3e1c55-0b9a-4f62-8e17-2c4b6a9d8f30", a);
  note.AddMember("userId", string_value("user-" + std::to_string(n % 97), a), a);
  note.AddMember("productId", "notelett", a);
  note.AddMember("title", string_value(words(random, 40), a), a);
  note.AddMember("body", string_value(words(random, 560), a), a);
  rapidjson::Value tags(rapidjson::kArrayType);
  for (const char* tag : {"work", "planning", "q3"}) tags.PushBack(rapidjson::StringRef(tag), a);
  note.AddMember("tags", tags, a);
  note.AddMember("pinned", n % 5 == 0, a);
  note.AddMember("archived", false, a);
  note.AddMember("wordCount", 87 + n % 13, a);
  note.AddMember("readingMinutes", 0.4 + (n % 7) * 0.1, a);
  note.AddMember("createdAt", "2024-03-18T09:41:27.512Z", a);
  note.AddMember("updatedAt", "2024-05-02T16:05:11.093Z", a);
  note.AddMember("folderId", rapidjson::Value(), a);
  note.AddMember("_rid", "hV0kAJ2n1vUBAAAAAAAAAA==", a);
  note.AddMember("_self", "dbs/hV0kAA==/colls/hV0kAJ2n1vU=/docs/hV0kAJ2n1vUBAAAAAAAAAA==/", a);
  note.AddMember("_etag", "\"0b00c1d4-0000-0d00-0000-6633b8a70000\"", a);
  note.AddMember("_attachments", "attachments/", a);
  note.AddMember("_ts", 1714665911, a);
  return common::to_json(note);
}

/// The JSON text of a note_artifacts document: three encrypted fields, short values.
std::string artifact_text(std::mt19937& random, int n) {
  rapidjson::Document artifact(rapidjson::kObjectType);
  auto& a = artifact.GetAllocator();
  const std::string id = "artifact-" + std::to_string(n) + "-9a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9";
  artifact.AddMember("id", string_value(id, a), a);
  artifact.AddMember("workspaceId", "ws-7d3e1c55-0b9a-4f62-8e17-2c4b6a9d8f30", a);
  artifact.AddMember("userId", string_value("user-" + std::to_string(n % 97), a), a);
  artifact.AddMember("productId", "notelett", a);
  artifact.AddMember("noteId", "note-3f6c2a9e-8d41-4c7b-a1f0-5e2d9b7c4a18", a);
  artifact.AddMember("title", string_value(words(random, 48), a), a);
  artifact.AddMember("description", string_value(words(random, 300), a), a);
  const std::string blob = "workspaces/ws-7d3e1c55/artifacts/" + std::to_string(n) + "/export.pdf";
  artifact.AddMember("blobPath", string_value(blob, a), a);
  artifact.AddMember("contentType", "application/pdf", a);
  artifact.AddMember("sizeBytes", 482113 + n, a);
  artifact.AddMember("sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                     a);
  artifact.AddMember("createdAt", "2024-03-18T09:41:27.512Z", a);
  artifact.AddMember("_rid", "hV0kAJ2n1vUCAAAAAAAAAA==", a);
  artifact.AddMember("_self", "dbs/hV0kAA==/colls/hV0kAJ2n1vU=/docs/hV0kAJ2n1vUCAAAAAAAAAA==/", a);
  artifact.AddMember("_etag", "\"0b00c2e5-0000-0d00-0000-6633b8a80000\"", a);
  artifact.AddMember("_attachments", "attachments/", a);
  artifact.AddMember("_ts", 1714665912, a);
  return common::to_json(artifact);
}

/// Keeps results observable so the work is not optimised away.
volatile std::size_t g_sink = 0;

rapidjson::Document parse(const std::string& text) {
  auto parsed = common::parse_json(text);
  if (!parsed.ok()) {
    std::fprintf(stderr, "bench document does not parse: %s\n", parsed.error().message.c_str());
    std::exit(1);
  }
  return std::move(*parsed);
}

/// Runs `step` over `documents` round-robin for about `seconds` of CPU time; documents per
/// CPU second.
/// The work of one row for one document: its text and its index; returns something to keep.
using Step = std::function<std::size_t(const std::string&, std::size_t)>;

double measure(const std::vector<std::string>& documents, double seconds, const Step& step) {
  for (std::size_t i = 0; i < documents.size(); ++i) g_sink = g_sink + step(documents[i], i);
  std::size_t done = 0;
  const double started = thread_cpu_seconds();
  double elapsed = 0;
  do {
    for (std::size_t i = 0; i < documents.size(); ++i) g_sink = g_sink + step(documents[i], i);
    done += documents.size();
    elapsed = thread_cpu_seconds() - started;
  } while (elapsed < seconds);
  return static_cast<double>(done) / elapsed;
}

struct Workload {
  std::string name;
  std::vector<std::string> documents;
  migrations::ContainerSpec container;
};

/// Measures the rows of `workload` whose name ("notes parse + write") contains `only`.
void run(const Workload& workload,
         const crypto::Keyring& keyring,
         double seconds,
         std::string_view only) {
  migrations::Manifest manifest;
  manifest.id = "bench";
  manifest.kind = "encrypt-fields";
  auto transform = migrations::make_transform(manifest, workload.container, &keyring);
  if (!transform.ok()) {
    std::fprintf(stderr, "make_transform: %s\n", transform.error().message.c_str());
    std::exit(1);
  }
  std::size_t bytes = 0;
  for (const auto& text : workload.documents) bytes += text.size();
  std::vector<rapidjson::Document> parsed;
  for (const auto& text : workload.documents) parsed.push_back(parse(text));

  const auto row = [&](const char* step, const Step& work) {
    if ((workload.name + " " + step).find(only) == std::string::npos) return;
    const double docs_per_second = measure(workload.documents, seconds, work);
    std::printf("%-15s %-32s %10.0f %9.2f\n", workload.name.c_str(), step, docs_per_second,
                1e6 / docs_per_second);
  };
  row("parse", [](const std::string& text, std::size_t) { return parse(text).MemberCount(); });
  row("write",
      [&](const std::string&, std::size_t i) { return common::to_json(parsed[i]).size(); });
  row("parse + write",
      [](const std::string& text, std::size_t) { return common::to_json(parse(text)).size(); });
  row("parse + encrypt + write", [&](const std::string& text, std::size_t) {
    rapidjson::Document document = parse(text);
    const auto result = (*transform)->apply(document, migrations::Mode::kLive);
    if (result.outcome != migrations::Outcome::kRewritten) std::exit(2);
    return common::to_json(document).size();
  });
  std::printf("%-15s (%zu documents, %.0f bytes on average)\n", "", workload.documents.size(),
              static_cast<double>(bytes) / static_cast<double>(workload.documents.size()));
}

}  // namespace
}  // namespace backfilld::bench

int main(int argc, char** argv) {
  using namespace backfilld;
  const double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
  const std::string_view only = argc > 2 ? argv[2] : "";
  std::mt19937 random(20240518);
  bench::Workload notes{
      "notes",
      {},
      {"notes", "/workspaceId", migrations::EnvelopeFields{{"body"}, "notes", "userId", {}}}};
  bench::Workload artifacts{
      "note_artifacts",
      {},
      {"note_artifacts", "/workspaceId",
       migrations::EnvelopeFields{
           {"title", "description", "blobPath"}, "note_artifacts", "userId", {}}}};
  for (int n = 0; n < 256; ++n) {
    notes.documents.push_back(bench::note_text(random, n));
    artifacts.documents.push_back(bench::artifact_text(random, n));
  }
  crypto::KeyBytes key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<unsigned char>(i);
  const crypto::StaticKeyring keyring("env", "k1", {{"k1", key}});

  std::printf("%-15s %-32s %10s %9s\n", "documents", "per document", "docs/cpu-s", "us/doc");
  bench::run(notes, keyring, seconds, only);
  bench::run(artifacts, keyring, seconds, only);
  return 0;
}
