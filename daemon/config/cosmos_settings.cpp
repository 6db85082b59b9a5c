#include "daemon/config/cosmos_settings.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <cstdint>

namespace backfilld::config {

common::Result<CosmosSettings> cosmos_settings_from_env(const common::EnvLookup& env,
                                                        bool insecure_skip_tls_verify) {
  CosmosSettings settings;
  auto endpoint = env("COSMOS_ENDPOINT");
  if (!endpoint || endpoint->empty()) {
    return common::fail(
        "config", "COSMOS_ENDPOINT is not set (e.g. https://account.documents.azure.com:443/)");
  }
  auto key = env("COSMOS_KEY");
  if (!key || key->empty()) return common::fail("config", "COSMOS_KEY is not set");
  settings.client.endpoint = *endpoint;
  settings.client.master_key = *key;
  settings.client.tls.ca_file = env("COSMOS_CA_FILE").value_or("");
  settings.database = env("COSMOS_DATABASE").value_or("");
  if (auto timeout = env("COSMOS_REQUEST_TIMEOUT_MS"); timeout && !timeout->empty()) {
    std::int64_t ms = 0;
    auto [end, ec] = std::from_chars(timeout->data(), timeout->data() + timeout->size(), ms);
    if (ec != std::errc() || end != timeout->data() + timeout->size() || ms < 1) {
      return common::fail("config", "COSMOS_REQUEST_TIMEOUT_MS must be a positive integer, got \"" +
                                        *timeout + "\"");
    }
    settings.client.request_timeout = std::chrono::milliseconds(ms);
  }
  settings.client.tls.insecure_skip_verify = insecure_skip_tls_verify;
  if (insecure_skip_tls_verify) {
    spdlog::warn(
        "TLS CERTIFICATE VERIFICATION IS OFF (--insecure-skip-tls-verify): anyone on the path to "
        "{} can read and change this traffic",
        *endpoint);
  }
  return settings;
}

common::Result<std::string> database_for(const std::string& manifest_database,
                                         const CosmosSettings& settings) {
  if (!manifest_database.empty()) return manifest_database;
  if (!settings.database.empty()) return settings.database;
  return common::fail("config", "no database: set COSMOS_DATABASE or the manifest's \"database\"");
}

}  // namespace backfilld::config
