#pragma once
/// Environment lookups as a seam: configuration code reads through this, tests pass a map.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace backfilld::common {

/// Reads one environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

/// The process environment.
EnvLookup process_env();

/// A fixed environment, for tests.
EnvLookup fixed_env(std::map<std::string, std::string, std::less<>> values);

}  // namespace backfilld::common
