#include "persistence/errors.hpp"

#include <caf/sec.hpp>

namespace diffplane {

error_code code_of(const caf::error& err) {
  if (!err)
    return error_code::none;
  if (err.category() == error_category)
    return static_cast<error_code>(err.code());
  if (err.category() == caf::atom("system")) {
    switch (static_cast<caf::sec>(err.code())) {
    case caf::sec::request_receiver_down:
    case caf::sec::request_timeout:
    case caf::sec::no_route_to_receiving_node:
    case caf::sec::cannot_connect_to_node:
      return error_code::unavailable;
    default:
      break;
    }
  }
  return error_code::internal;
}

std::string message_of(const caf::error& err) {
  if (err.category() == error_category && err.context().match_elements<std::string>())
    return err.context().get_as<std::string>(0);
  return caf::to_string(err);
}

std::string_view to_string(error_code code) {
  switch (code) {
  case error_code::none:
    return "none";
  case error_code::bad_request:
    return "bad_request";
  case error_code::unauthorized:
    return "unauthorized";
  case error_code::not_found:
    return "not_found";
  case error_code::overloaded:
    return "overloaded";
  case error_code::limit_reached:
    return "limit_reached";
  case error_code::unavailable:
    return "unavailable";
  case error_code::moved:
    return "moved";
  case error_code::unreachable:
    return "unreachable";
  case error_code::internal:
    return "internal";
  }
  return "unknown";
}

} // namespace diffplane
