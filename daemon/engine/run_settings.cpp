#include "daemon/engine/run_settings.hpp"

namespace backfilld::engine {

std::string_view to_string(WriteMode mode) {
  switch (mode) {
    case WriteMode::kAuto:
      return "auto";
    case WriteMode::kBatch:
      return "batch";
    case WriteMode::kBulk:
      return "bulk";
    case WriteMode::kSingle:
      return "single";
  }
  return "auto";
}

std::optional<WriteMode> parse_write_mode(std::string_view text) {
  for (WriteMode mode :
       {WriteMode::kAuto, WriteMode::kBatch, WriteMode::kBulk, WriteMode::kSingle}) {
    if (text == to_string(mode)) return mode;
  }
  return std::nullopt;
}

}  // namespace backfilld::engine
