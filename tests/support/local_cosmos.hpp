#pragma once
/// Where the tests' local Cosmos server is: the CTest fixture starts it and exports
/// BACKFILLD_TEST_COSMOS_DIR, a directory holding `endpoint` and `cert.pem`.
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>

#include "daemon/cosmos/client.hpp"

namespace backfilld::testing {

struct LocalCosmos {
  std::string endpoint;
  std::string ca_file;
  /// The emulator's well-known key: the local server checks no signature.
  std::string master_key =
      "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==";

  cosmos::ClientOptions client_options() const {
    cosmos::ClientOptions options;
    options.endpoint = endpoint;
    options.master_key = master_key;
    options.tls.ca_file = ca_file;
    options.pool.max_connections = 16;
    options.request_timeout = std::chrono::seconds(30);
    return options;
  }
};

inline LocalCosmos local_cosmos() {
  const char* dir = std::getenv("BACKFILLD_TEST_COSMOS_DIR");
  if (dir == nullptr)
    throw std::runtime_error("BACKFILLD_TEST_COSMOS_DIR is not set (run via ctest)");
  std::ifstream endpoint_file(std::string(dir) + "/endpoint");
  std::string endpoint;
  std::getline(endpoint_file, endpoint);
  if (endpoint.empty()) throw std::runtime_error(std::string("no endpoint file in ") + dir);
  return LocalCosmos{endpoint, std::string(dir) + "/cert.pem"};
}

/// A fresh name per test run, so tests never see each other's data.
inline std::string unique_name(const std::string& prefix) {
  std::random_device random;
  std::ostringstream name;
  name << prefix << '-' << std::hex << random() << random();
  return name.str();
}

}  // namespace backfilld::testing
