#pragma once
/// `backfilld ctl`: an operator's client of the daemon's HTTP control plane (api/openapi.yaml).
#include <iosfwd>
#include <string>
#include <vector>

#include "daemon/common/env.hpp"

namespace backfilld::ctl {

/// Runs `backfilld ctl ARGS...` against BACKFILLD_URL with the token of BACKFILLD_API_TOKEN or
/// BACKFILLD_API_TOKEN_FILE; answers go to `out`, errors to `err`. Returns a CtlExit code.
int ctl_command(const std::vector<std::string>& args,
                const common::EnvLookup& env,
                std::ostream& out,
                std::ostream& err);

}  // namespace backfilld::ctl
