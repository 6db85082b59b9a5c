#pragma once
/// The JSON of Cosmos batch requests (`x-ms-cosmos-is-batch-request`): the operations array the
/// client sends and the per-operation results it reads back.
#include <cstddef>
#include <string>

#include "daemon/cosmos/error.hpp"
#include "daemon/cosmos/types.hpp"

namespace backfilld::cosmos {

/// `[{"operationType":"Replace","id":...,"partitionKey":"[...]","ifMatch":...,
/// "resourceBody":{...}}, ...]`; each document body is copied in as it was serialized.
std::string batch_body(const BatchRequest& request);

/// One result per operation, in order; an error when the body is not that array.
Result<BatchResponse> parse_batch_response(const std::string& text,
                                           std::size_t operations,
                                           double request_charge);

}  // namespace backfilld::cosmos
