#include "daemon/metrics/metrics.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace backfilld::metrics {
namespace {

using cosmos::RequestEvent;
using cosmos::RetryCause;
using std::chrono::milliseconds;
using LabelSet = std::map<std::string, std::string>;

/// One sample line of the text format, its label values unescaped.
struct Sample {
  std::string name;
  LabelSet labels;
  double value = 0;
};

/// A parsed scrape: the samples, and each family's # TYPE and # HELP.
struct Scrape {
  std::vector<Sample> samples;
  std::map<std::string, std::string> types;
  std::map<std::string, std::string> helps;
};

// Reads `"..."` at `pos` with the text format's escapes (\\, \", \n), moving `pos` past it.
std::string parse_quoted(const std::string& line, std::size_t& pos) {
  REQUIRE_MESSAGE(line[pos] == '"', line);
  std::string value;
  for (++pos; pos < line.size() && line[pos] != '"'; ++pos) {
    if (line[pos] != '\\') {
      value += line[pos];
      continue;
    }
    ++pos;
    REQUIRE_MESSAGE(pos < line.size(), line);
    switch (line[pos]) {
      case 'n':
        value += '\n';
        break;
      case '\\':
      case '"':
        value += line[pos];
        break;
      default:
        FAIL("unknown escape in: " << line);
    }
  }
  REQUIRE_MESSAGE(pos < line.size(), "unterminated label value: " << line);
  ++pos;
  return value;
}

Sample parse_sample(const std::string& line) {
  Sample sample;
  std::size_t pos = line.find_first_of("{ ");
  REQUIRE_MESSAGE(pos != std::string::npos, line);
  sample.name = line.substr(0, pos);
  if (line[pos] == '{') {
    ++pos;
    while (line[pos] != '}') {
      const std::size_t equals = line.find('=', pos);
      REQUIRE_MESSAGE(equals != std::string::npos, line);
      std::string label = line.substr(pos, equals - pos);
      pos = equals + 1;
      std::string value = parse_quoted(line, pos);
      REQUIRE_MESSAGE(sample.labels.emplace(label, value).second, "duplicate label: " << line);
      if (line[pos] == ',') ++pos;
    }
    ++pos;
  }
  REQUIRE_MESSAGE(line[pos] == ' ', line);
  const std::string value = line.substr(pos + 1);
  REQUIRE_MESSAGE(value.find(' ') == std::string::npos, "unexpected timestamp: " << line);
  if (value == "+Inf") {
    sample.value = std::numeric_limits<double>::infinity();
  } else {
    std::size_t used = 0;
    sample.value = std::stod(value, &used);
    REQUIRE_MESSAGE(used == value.size(), line);
  }
  return sample;
}

Scrape parse(const std::string& text) {
  Scrape scrape;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      const auto rest = line.substr(7);
      const auto space = rest.find(' ');
      scrape.types[rest.substr(0, space)] = rest.substr(space + 1);
    } else if (line.rfind("# HELP ", 0) == 0) {
      const auto rest = line.substr(7);
      const auto space = rest.find(' ');
      scrape.helps[rest.substr(0, space)] = rest.substr(space + 1);
    } else {
      REQUIRE_MESSAGE(line[0] != '#', line);
      scrape.samples.push_back(parse_sample(line));
    }
  }
  return scrape;
}

// Every sample of `name` whose labels include `labels`.
std::vector<Sample> find(const Scrape& scrape, std::string_view name, const LabelSet& labels) {
  std::vector<Sample> found;
  for (const auto& sample : scrape.samples) {
    if (sample.name != name) continue;
    bool matches = true;
    for (const auto& [label, value] : labels) {
      auto it = sample.labels.find(label);
      matches = matches && it != sample.labels.end() && it->second == value;
    }
    if (matches) found.push_back(sample);
  }
  return found;
}

// The value of the one series `name` with exactly `labels`; nullopt when there is none.
std::optional<double> value(const Scrape& scrape, std::string_view name, const LabelSet& labels) {
  std::optional<double> result;
  for (const auto& sample : scrape.samples) {
    if (sample.name != name || sample.labels != labels) continue;
    REQUIRE_MESSAGE(!result.has_value(), "series twice: " << name);
    result = sample.value;
  }
  return result;
}

LabelSet job_labels(const JobLabels& job, LabelSet extra = {}) {
  extra.emplace("job_id", job.job);
  extra.emplace("container", job.container);
  extra.emplace("migration", job.migration);
  return extra;
}

const JobLabels kNotes{"enc-notes", "notes", "enc-2024-06"};
const JobLabels kPrompts{"enc-note_prompts", "note_prompts", "enc-2024-06"};

}  // namespace

TEST_CASE("every family has its help text and type") {
  Metrics metrics;
  metrics.set_build_info("0.1.0", "abc123");
  metrics.add_documents(kNotes, "scanned", 1);
  metrics.add_field_values(kNotes, "body", "rewritten", 1);
  metrics.set_job_state(kNotes, "running");
  metrics.observe_batch(kNotes, milliseconds(5));
  metrics.set_progress(kNotes, 0.5, 10);
  metrics.set_inflight_writes(kNotes, 1);
  metrics.record_request(
      RequestEvent{"query", 429, 3200, 1, milliseconds(1), RetryCause::kThrottled});
  const auto scrape = parse(metrics.serialize());

  const std::map<std::string, std::string> expected = {
      {"backfilld_documents_total", "counter"},
      {"backfilld_field_values_total", "counter"},
      {"backfilld_job_state", "gauge"},
      {"backfilld_batch_duration_seconds", "histogram"},
      {"backfilld_job_progress_ratio", "gauge"},
      {"backfilld_job_eta_seconds", "gauge"},
      {"backfilld_inflight_writes", "gauge"},
      {"backfilld_job_conflicts_total", "counter"},
      {"backfilld_cosmos_requests_total", "counter"},
      {"backfilld_cosmos_request_charge_total", "counter"},
      {"backfilld_cosmos_request_duration_seconds", "histogram"},
      {"backfilld_cosmos_retries_total", "counter"},
      {"backfilld_cosmos_throttled_total", "counter"},
      {"backfilld_build_info", "gauge"},
      {"backfilld_up", "gauge"},
  };
  CHECK(scrape.types == expected);
  for (const auto& entry : expected) {
    // Not a structured binding: clang 14 cannot capture one in doctest's assertion lambdas.
    const auto& name = entry.first;
    CHECK_MESSAGE(scrape.helps.count(name) == 1, name);
    CHECK_MESSAGE(!scrape.helps.at(name).empty(), name);
  }
  CHECK(value(scrape, "backfilld_up", {}) == 1);
  CHECK(value(scrape, "backfilld_build_info", {{"version", "0.1.0"}, {"commit", "abc123"}}) == 1);
}

TEST_CASE("a fresh Metrics reports only that it is up") {
  Metrics metrics;
  const auto scrape = parse(metrics.serialize());
  REQUIRE(scrape.samples.size() == 1);
  CHECK(scrape.samples[0].name == "backfilld_up");
  CHECK(scrape.samples[0].labels.empty());
  CHECK(scrape.samples[0].value == 1);
}

TEST_CASE("set_build_info keeps one series") {
  Metrics metrics;
  metrics.set_build_info("0.1.0", "old");
  metrics.set_build_info("0.1.1", "new");
  const auto scrape = parse(metrics.serialize());
  CHECK(find(scrape, "backfilld_build_info", {}).size() == 1);
  CHECK(value(scrape, "backfilld_build_info", {{"version", "0.1.1"}, {"commit", "new"}}) == 1);
}

TEST_CASE("document, field value and conflict counts add up per job") {
  Metrics metrics;
  metrics.add_documents(kNotes, "scanned", 100);
  metrics.add_documents(kNotes, "scanned", 50);
  metrics.add_documents(kNotes, "rewritten", 120);
  metrics.add_documents(kPrompts, "scanned", 7);
  metrics.add_field_values(kNotes, "body", "rewritten", 120);
  metrics.add_field_values(kNotes, "body", "skipped", 30);
  metrics.add_field_values(kNotes, "body", "rewritten", 5);
  metrics.add_conflicts(kNotes, 2);
  metrics.add_conflicts(kNotes, 1);
  metrics.set_inflight_writes(kNotes, 16);
  metrics.set_inflight_writes(kNotes, 3);
  const auto scrape = parse(metrics.serialize());

  CHECK(value(scrape, "backfilld_documents_total", job_labels(kNotes, {{"outcome", "scanned"}})) ==
        150);
  CHECK(value(scrape, "backfilld_documents_total",
              job_labels(kNotes, {{"outcome", "rewritten"}})) == 120);
  CHECK(value(scrape, "backfilld_documents_total",
              job_labels(kPrompts, {{"outcome", "scanned"}})) == 7);
  // Every outcome exists from a job's first sample on, so alerts see the first error.
  for (const char* outcome : {"skipped", "error", "owner_mismatch", "missing_partition_key"}) {
    CHECK_MESSAGE(
        value(scrape, "backfilld_documents_total", job_labels(kNotes, {{"outcome", outcome}})) == 0,
        outcome);
  }
  CHECK(find(scrape, "backfilld_documents_total", job_labels(kNotes)).size() == 6);

  CHECK(value(scrape, "backfilld_field_values_total",
              job_labels(kNotes, {{"field", "body"}, {"outcome", "rewritten"}})) == 125);
  CHECK(value(scrape, "backfilld_field_values_total",
              job_labels(kNotes, {{"field", "body"}, {"outcome", "skipped"}})) == 30);
  CHECK(find(scrape, "backfilld_field_values_total", {}).size() == 2);

  CHECK(value(scrape, "backfilld_job_conflicts_total", job_labels(kNotes)) == 3);
  CHECK(value(scrape, "backfilld_job_conflicts_total", job_labels(kPrompts)) == 0);
  CHECK(value(scrape, "backfilld_inflight_writes", job_labels(kNotes)) == 3);
}

TEST_CASE("job state is one-hot over the six states") {
  Metrics metrics;
  const std::vector<std::string> states = {"queued",    "running", "paused",
                                           "succeeded", "failed",  "stopped"};
  auto check_one_hot = [&](const JobLabels& job, const std::string& current) {
    const auto scrape = parse(metrics.serialize());
    CHECK(find(scrape, "backfilld_job_state", job_labels(job)).size() == states.size());
    for (const auto& state : states) {
      CHECK_MESSAGE(value(scrape, "backfilld_job_state", job_labels(job, {{"state", state}})) ==
                        (state == current ? 1 : 0),
                    job.job << " " << state << " while " << current);
    }
  };
  metrics.set_job_state(kNotes, "queued");
  metrics.set_job_state(kPrompts, "queued");
  check_one_hot(kNotes, "queued");
  for (const auto& state : {"running", "paused", "running", "failed"}) {
    metrics.set_job_state(kNotes, state);
    check_one_hot(kNotes, state);
    check_one_hot(kPrompts, "queued");
  }
}

TEST_CASE("a negative ETA removes the ETA series, progress stays") {
  Metrics metrics;
  const auto eta = [&] {
    return value(parse(metrics.serialize()), "backfilld_job_eta_seconds", job_labels(kNotes));
  };
  const auto progress = [&] {
    return value(parse(metrics.serialize()), "backfilld_job_progress_ratio", job_labels(kNotes));
  };
  metrics.set_progress(kNotes, 0.25, 90.5);
  CHECK(eta() == 90.5);
  CHECK(progress() == 0.25);

  metrics.set_progress(kNotes, 0.5, -1);
  CHECK_FALSE(eta().has_value());
  CHECK(progress() == 0.5);
  CHECK(find(parse(metrics.serialize()), "backfilld_job_eta_seconds", {}).empty());

  metrics.set_progress(kNotes, 0.6, -1);  // removing what is gone is harmless
  CHECK_FALSE(eta().has_value());
  metrics.set_progress(kNotes, 0.75, 30);
  CHECK(eta() == 30);
  metrics.set_progress(kNotes, 0.8, std::numeric_limits<double>::quiet_NaN());
  CHECK_FALSE(eta().has_value());
  metrics.set_progress(kNotes, 1, 0);
  CHECK(eta() == 0);
  CHECK(progress() == 1);
}

TEST_CASE("batch durations fill cumulative buckets from 5 ms to 60 s") {
  Metrics metrics;
  for (auto duration : {milliseconds(1), milliseconds(5), milliseconds(7), milliseconds(300),
                        milliseconds(60'000), milliseconds(61'000)}) {
    metrics.observe_batch(kNotes, duration);
  }
  const auto scrape = parse(metrics.serialize());
  const std::vector<std::pair<std::string, double>> expected = {
      {"0.005", 2}, {"0.01", 3}, {"0.025", 3}, {"0.05", 3}, {"0.1", 3}, {"0.25", 3}, {"0.5", 4},
      {"1", 4},     {"2.5", 4},  {"5", 4},     {"10", 4},   {"30", 4},  {"60", 5},   {"+Inf", 6}};
  for (const auto& [le_, count_] : expected) {
    // Named again: clang 14 cannot capture bindings in doctest's assertion lambdas.
    const auto& le = le_;
    const auto& count = count_;
    CHECK_MESSAGE(value(scrape, "backfilld_batch_duration_seconds_bucket",
                        job_labels(kNotes, {{"le", le}})) == count,
                  "le=" << le);
  }
  CHECK(find(scrape, "backfilld_batch_duration_seconds_bucket", {}).size() == expected.size());
  CHECK(value(scrape, "backfilld_batch_duration_seconds_count", job_labels(kNotes)) == 6);
  const auto sum = value(scrape, "backfilld_batch_duration_seconds_sum", job_labels(kNotes));
  REQUIRE(sum.has_value());
  CHECK(*sum == doctest::Approx(121.313));
}

TEST_CASE("request durations fill buckets from 1 ms to 10 s") {
  Metrics metrics;
  for (auto duration : {std::chrono::microseconds(500), std::chrono::microseconds(1000),
                        std::chrono::microseconds(3000), std::chrono::microseconds(10'000'000),
                        std::chrono::microseconds(30'000'000)}) {
    metrics.record_request(RequestEvent{"read", 200, 0, 1, duration, std::nullopt});
  }
  const auto scrape = parse(metrics.serialize());
  const std::vector<std::pair<std::string, double>> expected = {
      {"0.001", 2}, {"0.0025", 2}, {"0.005", 3}, {"0.01", 3}, {"0.025", 3},
      {"0.05", 3},  {"0.1", 3},    {"0.25", 3},  {"0.5", 3},  {"1", 3},
      {"2.5", 3},   {"5", 3},      {"10", 4},    {"+Inf", 5}};
  for (const auto& [le_, count_] : expected) {
    // Named again: clang 14 cannot capture bindings in doctest's assertion lambdas.
    const auto& le = le_;
    const auto& count = count_;
    CHECK_MESSAGE(value(scrape, "backfilld_cosmos_request_duration_seconds_bucket",
                        {{"operation", "read"}, {"le", le}}) == count,
                  "le=" << le);
  }
  CHECK(find(scrape, "backfilld_cosmos_request_duration_seconds_bucket", {}).size() ==
        expected.size());
  CHECK(value(scrape, "backfilld_cosmos_request_duration_seconds_count", {{"operation", "read"}}) ==
        5);
}

TEST_CASE("request events count statuses, charge, retries by cause and throttles") {
  Metrics metrics;
  auto observe = metrics.request_observer();
  // A replace throttled twice, then accepted; a query that lost its connection, then succeeded;
  // a replace that gave up on a 429 (no retry) and one that hit a 412.
  observe(RequestEvent{"replace", 429, 3200, 0.5, milliseconds(2), RetryCause::kThrottled});
  observe(RequestEvent{"replace", 429, 3200, 0.5, milliseconds(2), RetryCause::kThrottled});
  observe(RequestEvent{"replace", 200, 0, 10.25, milliseconds(8), std::nullopt});
  observe(RequestEvent{"query", 0, 0, 0, milliseconds(30'000), RetryCause::kTransport});
  observe(RequestEvent{"query", 200, 0, 12.5, milliseconds(20), std::nullopt});
  observe(RequestEvent{"replace", 429, 3200, 0.5, milliseconds(2), std::nullopt});
  observe(RequestEvent{"replace", 412, 0, 1, milliseconds(3), std::nullopt});
  const auto scrape = parse(metrics.serialize());

  auto requests = [&](const char* operation, const char* status) {
    return value(scrape, "backfilld_cosmos_requests_total",
                 {{"operation", operation}, {"status", status}});
  };
  CHECK(requests("replace", "429") == 3);
  CHECK(requests("replace", "200") == 1);
  CHECK(requests("replace", "412") == 1);
  CHECK(requests("query", "0") == 1);
  CHECK(requests("query", "200") == 1);
  CHECK(find(scrape, "backfilld_cosmos_requests_total", {}).size() == 5);

  auto retries = [&](const char* operation, const char* cause) {
    return value(scrape, "backfilld_cosmos_retries_total",
                 {{"operation", operation}, {"cause", cause}});
  };
  CHECK(retries("replace", "throttled") == 2);
  CHECK(retries("query", "transport") == 1);
  for (const char* cause : {"retry_with", "request_timeout", "unavailable", "gone", "transport"}) {
    CHECK_MESSAGE(retries("replace", cause) == 0, cause);
  }
  CHECK(retries("query", "throttled") == 0);

  // Every 429 is a throttle, retried or not.
  CHECK(value(scrape, "backfilld_cosmos_throttled_total", {{"operation", "replace"}}) == 3);
  CHECK(value(scrape, "backfilld_cosmos_throttled_total", {{"operation", "query"}}) == 0);

  CHECK(value(scrape, "backfilld_cosmos_request_charge_total", {{"operation", "replace"}}) ==
        doctest::Approx(12.75));
  CHECK(value(scrape, "backfilld_cosmos_request_charge_total", {{"operation", "query"}}) == 12.5);
  CHECK(value(scrape, "backfilld_cosmos_request_duration_seconds_count",
              {{"operation", "replace"}}) == 5);
}

TEST_CASE("label values with quotes, backslashes and newlines are escaped") {
  Metrics metrics;
  const JobLabels odd{"a\"b\\c\nd", "con\\tainer", "mig\"ration"};
  metrics.add_conflicts(odd, 1);
  const std::string text = metrics.serialize();

  std::string line;
  std::istringstream lines(text);
  while (std::getline(lines, line)) {
    if (line.rfind("backfilld_job_conflicts_total{", 0) == 0) break;
  }
  CHECK(line == R"(backfilld_job_conflicts_total{container="con\\tainer",job_id="a\"b\\c\nd",)"
                R"(migration="mig\"ration"} 1)");
  // And the escaped values parse back to the originals.
  CHECK(value(parse(text), "backfilld_job_conflicts_total", job_labels(odd)) == 1);
}

}  // namespace backfilld::metrics
