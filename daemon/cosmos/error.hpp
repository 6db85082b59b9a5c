#pragma once
/// Cosmos failures as values: what the service said, or what the transport saw.
#include <chrono>
#include <string>

#include "daemon/common/result.hpp"

namespace backfilld::cosmos {

/// A failed Cosmos operation. `status` 0 means no HTTP response (connect, TLS, timeout, reset).
struct Error {
  int status = 0;
  int substatus = 0;
  std::string message = {};      ///< readable: the service's message or the transport error
  std::string activity_id = {};  ///< x-ms-activity-id, for support tickets
  double request_charge = 0;
  std::chrono::milliseconds retry_after{0};  ///< x-ms-retry-after-ms, when the service sent it

  bool is_transport() const { return status == 0; }
  bool is_precondition_failed() const { return status == 412; }
  bool is_not_found() const { return status == 404; }
  bool is_conflict() const { return status == 409; }
  /// The partition key range a request was pinned to is gone: split (410/1002), completing a
  /// split (1007) or a migration (1008). Re-read the ranges and route again.
  bool is_range_gone() const {
    return status == 410 && (substatus == 1002 || substatus == 1007 || substatus == 1008);
  }
};

template <class T>
using Result = common::Result<T, Error>;

/// One line for logs: "412/0 precondition failed: ... (activity ..., 1.0 RU)".
std::string describe(const Error& error);

}  // namespace backfilld::cosmos
