#include "persistence/resource_records.hpp"

namespace diffplane {

namespace {

constexpr resource_state all_states[] = {
    resource_state::scheduled, resource_state::pending,  resource_state::synced,
    resource_state::failed,    resource_state::degraded, resource_state::expired,
    resource_state::deleted};

} // namespace

std::string_view to_string(resource_state state) {
  switch (state) {
  case resource_state::scheduled:
    return "scheduled";
  case resource_state::pending:
    return "pending";
  case resource_state::synced:
    return "synced";
  case resource_state::failed:
    return "failed";
  case resource_state::degraded:
    return "degraded";
  case resource_state::expired:
    return "expired";
  case resource_state::deleted:
    return "deleted";
  }
  return "scheduled";
}

bool parse(std::string_view text, resource_state& out) {
  for (auto state : all_states)
    if (to_string(state) == text) {
      out = state;
      return true;
    }
  return false;
}

} // namespace diffplane
