#include "bench/loadgen/http_wire.hpp"

namespace diffplane::bench {

void write_request(std::string& out, const request_head& head, std::string_view body) {
  auto line = [&out](std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(value).append("\r\n");
  };
  out.clear();
  auto method = boost::beast::http::to_string(head.method);
  out.append(method.data(), method.size())
      .append(" ")
      .append(head.target)
      .append(" HTTP/1.1\r\n");
  line("Host", head.host);
  line("Authorization", head.authorization);
  if (!head.machine_id.empty())
    line("x-machine-id", head.machine_id);
  if (!body.empty())
    line("Content-Type", "application/json");
  // A request without a body still says so when its method expects one.
  if (!body.empty() || head.method == boost::beast::http::verb::post ||
      head.method == boost::beast::http::verb::put)
    line("Content-Length", std::to_string(body.size()));
  out.append("\r\n").append(body);
}

} // namespace diffplane::bench
