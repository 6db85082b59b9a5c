#include "daemon/common/env.hpp"

#include <doctest/doctest.h>

#include <cstdlib>

namespace backfilld::common {

TEST_CASE("process_env reads the process environment") {
  ::setenv("BACKFILLD_ENV_TEST_VAR", "value", 1);
  CHECK(process_env()("BACKFILLD_ENV_TEST_VAR") == std::optional<std::string>("value"));
  ::unsetenv("BACKFILLD_ENV_TEST_VAR");
  CHECK_FALSE(process_env()("BACKFILLD_ENV_TEST_VAR").has_value());
}

TEST_CASE("fixed_env answers from its map only") {
  const EnvLookup env = fixed_env({{"A", "1"}});
  CHECK(env("A") == std::optional<std::string>("1"));
  CHECK_FALSE(env("B").has_value());
}

}  // namespace backfilld::common
