#include "actors/message_types.hpp"

#include "persistence/errors.hpp"

#include <caf/actor_system_config.hpp>

namespace diffplane {

void register_message_types(caf::actor_system_config& cfg) {
#define DIFFPLANE_REGISTER(...) cfg.add_message_type<__VA_ARGS__>(#__VA_ARGS__);
  DIFFPLANE_MESSAGE_TYPES(DIFFPLANE_REGISTER)
#undef DIFFPLANE_REGISTER
  cfg.add_error_category(error_category, [](std::uint8_t code, caf::atom_value,
                                            const caf::message& context) {
    std::string text = "diffplane::";
    text += to_string(static_cast<error_code>(code));
    if (context.match_elements<std::string>())
      text += ": " + context.get_as<std::string>(0);
    return text;
  });
}

} // namespace diffplane
