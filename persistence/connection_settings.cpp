#include "persistence/connection_settings.hpp"

#include <postgresql/libpq-fe.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <stdexcept>

namespace diffplane::persistence {

namespace {

/// A value quoted for a key=value connection string.
std::string quoted(const std::string& value) {
  std::string out{"'"};
  for (char c : value) {
    if (c == '\'' || c == '\\')
      out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

struct parsed_conninfo {
  /// The parameters the string sets, in libpq's order.
  std::map<std::string, std::string> values;
  /// Each known parameter's environment variable (empty when it has none).
  std::map<std::string, std::string> environment;
};

/// libpq's own reading of `configured`, so that URLs (percent-escapes, several hosts,
/// query parameters) and key=value strings are understood exactly as it will connect.
parsed_conninfo parse(const std::string& configured) {
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options{
      PQconninfoParse(configured.c_str(), &error), &PQconninfoFree};
  if (!options) {
    std::string message = error ? error : "out of memory";
    PQfreemem(error);
    while (!message.empty() && message.back() == '\n')
      message.pop_back();
    throw std::invalid_argument("the database URL does not parse: " + message);
  }
  parsed_conninfo out;
  for (auto* option = options.get(); option->keyword != nullptr; ++option) {
    if (option->val != nullptr)
      out.values[option->keyword] = option->val;
    out.environment[option->keyword] = option->envvar ? option->envvar : "";
  }
  return out;
}

/// Whether the operator set `keyword`, in the string or in its environment variable.
bool set_by_operator(const parsed_conninfo& info, const std::string& keyword) {
  if (info.values.count(keyword) > 0)
    return true;
  auto env = info.environment.find(keyword);
  if (env == info.environment.end() || env->second.empty())
    return false;
  const char* value = std::getenv(env->second.c_str());
  return value != nullptr && *value != '\0';
}

/// The backend options: the operator's (string or PGOPTIONS) plus our timeouts where
/// the operator did not give them.
std::string backend_options(const parsed_conninfo& info,
                            const connection_settings& settings) {
  std::string options;
  if (auto it = info.values.find("options"); it != info.values.end())
    options = it->second;
  else if (const char* env = std::getenv("PGOPTIONS"))
    options = env;
  auto add = [&](const char* name, std::chrono::milliseconds value) {
    if (value.count() == 0 || options.find(name) != std::string::npos)
      return;
    if (!options.empty())
      options.push_back(' ');
    options += "-c " + std::string{name} + "=" + std::to_string(value.count());
  };
  add("statement_timeout", settings.statement_timeout);
  add("idle_in_transaction_session_timeout", settings.idle_in_transaction_timeout);
  return options;
}

} // namespace

std::string connection_string(const std::string& configured,
                              const connection_settings& settings) {
  auto info = parse(configured);
  auto values = info.values;
  auto add = [&](const std::string& keyword, long long value) {
    if (value > 0 && !set_by_operator(info, keyword))
      values[keyword] = std::to_string(value);
  };
  add("connect_timeout", settings.connect_timeout.count());
  add("keepalives", 1);
  add("keepalives_idle", settings.keepalive_idle.count());
  add("keepalives_interval", settings.keepalive_interval.count());
  add("keepalives_count", settings.keepalive_count);
  add("tcp_user_timeout", settings.tcp_user_timeout.count());
  if (auto options = backend_options(info, settings); !options.empty())
    values["options"] = options;
  std::string out;
  for (const auto& [keyword, value] : values) {
    if (!out.empty())
      out.push_back(' ');
    out += keyword + "=" + quoted(value);
  }
  return out;
}

} // namespace diffplane::persistence
