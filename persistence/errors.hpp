#pragma once

#include "persistence/error_code.hpp"

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

#include <string>
#include <string_view>

namespace diffplane {

/// The category under which our error codes travel in caf::error.
constexpr caf::atom_value error_category = caf::atom("diffplane");

/// A caf::error of our category whose context is a one-line message.
inline caf::error make_error(error_code code, std::string message) {
  return caf::error{static_cast<std::uint8_t>(code), error_category,
                    caf::make_message(std::move(message))};
}

/// Our code of `err`: internal for foreign categories, none for no error.
error_code code_of(const caf::error& err);

/// The one-line message of `err`, for logs and HTTP bodies.
std::string message_of(const caf::error& err);

/// The code's name: "not_found", "unavailable", ...
std::string_view to_string(error_code code);

} // namespace diffplane
