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

} // namespace diffplane
