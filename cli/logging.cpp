#include "cli/logging.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <string_view>

namespace diffplane::cli {

namespace {

/// %* : the message as a JSON string, so a JSON log line stays valid whatever it says.
class json_message_flag : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    auto text = nlohmann::json(std::string(msg.payload.data(), msg.payload.size()))
                    .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<json_message_flag>();
  }
};

/// %~ : the message with control characters escaped, so that text a client sent (a
/// path with %0A in it) cannot start a forged line of a text log.
class escaped_message_flag : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    static constexpr char hex[] = "0123456789abcdef";
    for (char c : std::string_view(msg.payload.data(), msg.payload.size())) {
      auto byte = static_cast<unsigned char>(c);
      if (c == '\n') {
        dest.append(std::string_view("\\n"));
      } else if (c == '\r') {
        dest.append(std::string_view("\\r"));
      } else if (byte < 0x20 || byte == 0x7f) {
        char escaped[] = {'\\', 'x', hex[byte >> 4], hex[byte & 0xf]};
        dest.append(escaped, escaped + sizeof escaped);
      } else {
        dest.push_back(c);
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<escaped_message_flag>();
  }
};

} // namespace

void configure_logging(const std::string& level, const std::string& format) {
  auto logger = spdlog::stderr_logger_mt("diffplane");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
  if (format == "json") {
    auto formatter =
        std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<json_message_flag>('*').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","message":%*})");
    logger->set_formatter(std::move(formatter));
  } else {
    auto formatter =
        std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<escaped_message_flag>('~').set_pattern(
        "%Y-%m-%dT%H:%M:%S.%eZ %l %~");
    logger->set_formatter(std::move(formatter));
  }
  logger->flush_on(spdlog::level::info);
}

} // namespace diffplane::cli
