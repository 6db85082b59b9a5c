#pragma once
/// Cosmos connection settings from the environment names DESIGN.md pins.
#include <string>

#include "daemon/common/env.hpp"
#include "daemon/common/result.hpp"
#include "daemon/cosmos/client.hpp"

namespace backfilld::config {

struct CosmosSettings {
  cosmos::ClientOptions client;
  std::string database;  ///< COSMOS_DATABASE; a manifest's own database wins
};

/// Reads COSMOS_ENDPOINT, COSMOS_KEY, COSMOS_DATABASE, COSMOS_CA_FILE and
/// COSMOS_REQUEST_TIMEOUT_MS. Errors name the variable, never the key.
/// `insecure_skip_tls_verify` turns verification off, with a warning.
common::Result<CosmosSettings> cosmos_settings_from_env(const common::EnvLookup& env,
                                                        bool insecure_skip_tls_verify = false);

/// The database a manifest runs against: its own, else COSMOS_DATABASE; an error when neither.
common::Result<std::string> database_for(const std::string& manifest_database,
                                         const CosmosSettings& settings);

}  // namespace backfilld::config
