#include "actors/held_bytes.hpp"

#include "persistence/errors.hpp"

#include <string>

namespace diffplane::cluster_internal {

caf::error check_byte_budget(const held_bytes& held, std::size_t args_bytes,
                             std::uint64_t budget) {
  // Written to not overflow: args_bytes alone may pass the budget.
  if (args_bytes <= budget && held.total() <= budget - args_bytes)
    return {};
  return make_error(error_code::limit_reached,
                    "the cluster holds " + std::to_string(held.total()) +
                        " bytes of job arguments and results, and this job's " +
                        std::to_string(args_bytes) +
                        " bytes of arguments would pass the most it may hold, " +
                        std::to_string(budget) +
                        " (--max-live-bytes-per-cluster); new jobs are refused until "
                        "some finish and their results leave memory");
}

} // namespace diffplane::cluster_internal
