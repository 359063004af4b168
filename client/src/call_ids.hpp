#pragma once

#include <string>

namespace diffplane::client {

/// A new call id, which the server takes as the job's id: 32 lowercase hex digits, the
/// first 12 the milliseconds since the epoch, the other 20 (80 bits) random. In creation
/// order, so that the server's inserts append to its jobs' primary key (the ids the
/// server makes itself have the same shape, actors/job_ids.hpp).
std::string new_call_id();

/// `digits` random lowercase hex digits (at most 32), for names that only need to be
/// unique (a machine id).
std::string random_hex(std::size_t digits);

} // namespace diffplane::client
