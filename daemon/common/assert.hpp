#pragma once
/// BACKFILLD_ASSERT: a condition only a bug can break. It is checked in every build type; when
/// it fails, the message goes to the log as critical and the process aborts (a core dump and a
/// restart from the last checkpoint beat running on with a broken invariant).
#include <spdlog/spdlog.h>

#include <cstdlib>

#define BACKFILLD_ASSERT(condition, ...)                                                    \
  do {                                                                                      \
    if (!(condition)) [[unlikely]] {                                                        \
      spdlog::critical("assertion failed at {}:{}: {}: {}", __FILE__, __LINE__, #condition, \
                       fmt::format(__VA_ARGS__));                                           \
      spdlog::shutdown();                                                                   \
      std::abort();                                                                         \
    }                                                                                       \
  } while (false)
