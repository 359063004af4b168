#include "actors/message_types.hpp"

#include "persistence/errors.hpp"

#include <caf/actor_system_config.hpp>

namespace diffplane {

namespace {

const char* error_name(error_code code) {
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
  case error_code::unavailable:
    return "unavailable";
  case error_code::internal:
    return "internal";
  }
  return "unknown";
}

} // namespace

void register_message_types(caf::actor_system_config& cfg) {
#define DIFFPLANE_REGISTER(...) cfg.add_message_type<__VA_ARGS__>(#__VA_ARGS__);
  DIFFPLANE_MESSAGE_TYPES(DIFFPLANE_REGISTER)
#undef DIFFPLANE_REGISTER
  cfg.add_error_category(error_category, [](std::uint8_t code, caf::atom_value,
                                            const caf::message& context) {
    std::string text = "diffplane::";
    text += error_name(static_cast<error_code>(code));
    if (context.match_elements<std::string>())
      text += ": " + context.get_as<std::string>(0);
    return text;
  });
}

} // namespace diffplane
