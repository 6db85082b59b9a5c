#include "daemon/ctl/watch_view.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string_view>

#include "daemon/common/json.hpp"

namespace backfilld::ctl {
namespace {

constexpr std::string_view kDim = "\x1b[2m";
constexpr std::string_view kBold = "\x1b[1m";
constexpr std::string_view kReset = "\x1b[0m";

std::string text_of(const rapidjson::Value& object, std::string_view name) {
  return std::string(common::string_member(object, name).value_or(""));
}

std::optional<double> number_of(const rapidjson::Value& object, std::string_view name) {
  const rapidjson::Value* value = common::find_member(object, name);
  if (value == nullptr || !value->IsNumber()) return std::nullopt;
  return value->GetDouble();
}

std::uint64_t count_of(const rapidjson::Value& object, std::string_view name) {
  const rapidjson::Value* value = common::find_member(object, name);
  return value != nullptr && value->IsUint64() ? value->GetUint64() : 0;
}

bool flag_of(const rapidjson::Value& object, std::string_view name) {
  const rapidjson::Value* value = common::find_member(object, name);
  return value != nullptr && value->IsBool() && value->GetBool();
}

/// The colour a state is drawn in on a terminal.
std::string_view state_color(std::string_view state) {
  if (state == "succeeded") return "\x1b[32m";
  if (state == "failed") return "\x1b[31m";
  if (state == "paused" || state == "stopped") return "\x1b[33m";
  if (state == "running") return "\x1b[36m";
  return "";
}

std::string styled(std::string_view text, std::string_view code, const ViewStyle& style) {
  if (!style.color || code.empty()) return std::string(text);
  std::string out(code);
  out.append(text).append(kReset);
  return out;
}

/// An effective partition key bound, short: "" is the start of the key space.
std::string bound(std::string_view epk) {
  if (epk.empty()) return "00";
  return epk.size() > 8 ? std::string(epk.substr(0, 8)) + "~" : std::string(epk);
}

/// Where an effective partition key bound lies in the key space, 0 to 1: its first 12 hex digits
/// as a fraction; "" is the start and "FF" the end.
double key_position(std::string_view epk) {
  if (epk == "FF") return 1.0;
  double position = 0;
  double scale = 1.0 / 16;
  for (std::size_t i = 0; i < 12; ++i, scale /= 16) {
    const char c = i < epk.size() ? epk[i] : '0';
    const int digit = c >= '0' && c <= '9' ? c - '0' : (c >= 'A' && c <= 'F' ? c - 'A' + 10 : 0);
    position += digit * scale;
  }
  return position;
}

std::string range_line(const rapidjson::Value& range,
                       std::optional<double> estimated_total,
                       const ViewStyle& style) {
  const bool finished = flag_of(range, "finished");
  const bool active = flag_of(range, "active");
  std::string line = "  range " + text_of(range, "id");
  line.resize(std::max<std::size_t>(line.size(), 11), ' ');
  line += "[" + bound(text_of(range, "minInclusive")) + ", " +
          bound(text_of(range, "maxExclusive")) + ")";
  line.resize(std::max<std::size_t>(line.size(), 34), ' ');
  // Partition key hashes spread documents evenly over the key space, so a range's share of the
  // job's estimate is its share of the key space; never full before the range says so.
  std::optional<double> ratio;
  if (finished) {
    ratio = 1.0;
  } else if (estimated_total && *estimated_total > 0) {
    const double share =
        key_position(text_of(range, "maxExclusive")) - key_position(text_of(range, "minInclusive"));
    if (share > 0) {
      ratio = std::min(
          0.99, static_cast<double>(count_of(range, "scanned")) / (share * *estimated_total));
    }
  }
  line += progress_bar(ratio, style.range_bar_width);
  line += "  " + std::to_string(count_of(range, "scanned")) + " scanned, " +
          std::to_string(count_of(range, "batches")) + " batches";
  if (finished) {
    line += "  done";
  } else if (active) {
    line += "  " + styled("scanning", kBold, style);
  } else {
    line += "  waiting";
  }
  return line;
}

}  // namespace

std::string progress_bar(std::optional<double> ratio, int width) {
  const auto cells = static_cast<std::size_t>(std::max(width, 1));
  if (!ratio || !std::isfinite(*ratio)) return "[" + std::string(cells, '?') + "]";
  const double clamped = std::clamp(*ratio, 0.0, 1.0);
  const auto filled = static_cast<std::size_t>(std::floor(clamped * static_cast<double>(cells)));
  return "[" + std::string(filled, '#') + std::string(cells - filled, '-') + "]";
}

std::string format_eta(std::optional<double> seconds) {
  if (!seconds || !std::isfinite(*seconds) || *seconds < 0) return "-";
  const auto total = static_cast<std::uint64_t>(std::llround(*seconds));
  char text[32];
  if (total < 60) {
    std::snprintf(text, sizeof text, "%llus", static_cast<unsigned long long>(total));
  } else if (total < 3600) {
    std::snprintf(text, sizeof text, "%llum %02llus", static_cast<unsigned long long>(total / 60),
                  static_cast<unsigned long long>(total % 60));
  } else if (total < 86400) {
    std::snprintf(text, sizeof text, "%lluh %02llum", static_cast<unsigned long long>(total / 3600),
                  static_cast<unsigned long long>(total % 3600 / 60));
  } else {
    std::snprintf(text, sizeof text, "%llud %02lluh",
                  static_cast<unsigned long long>(total / 86400),
                  static_cast<unsigned long long>(total % 86400 / 3600));
  }
  return text;
}

std::string format_rate(double per_second) {
  if (!std::isfinite(per_second) || per_second < 0) per_second = 0;
  char text[32];
  if (per_second < 1000) {
    std::snprintf(text, sizeof text, "%.0f/s", per_second);
  } else if (per_second < 1e6) {
    std::snprintf(text, sizeof text, "%.1fk/s", per_second / 1e3);
  } else {
    std::snprintf(text, sizeof text, "%.1fM/s", per_second / 1e6);
  }
  return text;
}

std::vector<std::string> render_job(const rapidjson::Value& job, const ViewStyle& style) {
  std::vector<std::string> lines;
  const std::string state = text_of(job, "state");
  std::string title = styled(text_of(job, "id"), kBold, style);
  for (const char* name : {"container", "kind"}) {
    if (const std::string value = text_of(job, name); !value.empty()) title += "  " + value;
  }
  if (const rapidjson::Value* dry = common::find_member(job, "dryRun"); dry && dry->IsBool())
    title += dry->GetBool() ? "  dry run" : "  live";
  title += "  " + styled(state, state_color(state), style);
  lines.push_back(title);

  static const rapidjson::Value kEmpty(rapidjson::kObjectType);
  const rapidjson::Value* found = common::find_member(job, "progress");
  const rapidjson::Value& progress = found != nullptr && found->IsObject() ? *found : kEmpty;
  const std::optional<double> ratio = number_of(progress, "ratio");
  std::string line = "  " + progress_bar(ratio, style.bar_width);
  if (ratio) {
    char percent[16];
    std::snprintf(percent, sizeof percent, " %5.1f%%", std::clamp(*ratio, 0.0, 1.0) * 100);
    line += percent;
  }
  line += "  " + std::to_string(count_of(progress, "scanned"));
  if (const auto total = number_of(progress, "estimatedTotal"))
    line += "/" + std::to_string(static_cast<std::uint64_t>(*total));
  line += " docs  " + format_rate(number_of(job, "ratePerSecond").value_or(0)) + "  ETA " +
          format_eta(number_of(job, "etaSeconds"));
  lines.push_back(line);

  if (const std::string waiting = text_of(job, "waiting"); !waiting.empty())
    lines.push_back("  waiting: " + waiting);
  if (const std::string reason = text_of(job, "reason"); !reason.empty())
    lines.push_back("  reason: " + reason);

  std::size_t split = 0;
  if (const rapidjson::Value* ranges = common::find_member(progress, "ranges");
      ranges != nullptr && ranges->IsArray()) {
    for (const rapidjson::Value& range : ranges->GetArray()) {
      if (!range.IsObject()) continue;
      if (common::find_member(range, "splitInto") != nullptr) {
        ++split;
        continue;
      }
      lines.push_back(range_line(range, number_of(progress, "estimatedTotal"), style));
    }
  }
  if (split > 0) {
    lines.push_back(styled("  (" + std::to_string(split) + (split == 1 ? " range" : " ranges") +
                               " split into the ones above)",
                           kDim, style));
  }
  return lines;
}

std::vector<std::string> render_frame(const rapidjson::Value& jobs,
                                      const std::string& url,
                                      const ViewStyle& style) {
  const std::size_t count = jobs.IsArray() ? jobs.Size() : 0;
  std::vector<std::string> lines{"backfilld at " + url + ": " + std::to_string(count) +
                                 (count == 1 ? " job" : " jobs")};
  if (count == 0) return lines;
  for (const rapidjson::Value& job : jobs.GetArray()) {
    lines.emplace_back();
    for (std::string& line : render_job(job, style)) lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace backfilld::ctl
