#pragma once
/// The engine's clock is the common one (daemon/common/clock.hpp); these names keep its users.
#include "daemon/common/clock.hpp"

namespace backfilld::engine {

using Clock = common::Clock;
using SystemClock = common::SystemClock;

}  // namespace backfilld::engine
