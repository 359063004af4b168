#include "diffplane/client/client.hpp"

#include "connection.hpp"

namespace diffplane::client {

std::shared_ptr<client> client::connect(const std::string& endpoint,
                                        const std::string& api_secret,
                                        connect_options options) {
  auto address = endpoint;
  tls_settings tls;
  tls.ca_file = options.tls_ca_file;
  if (auto scheme = address.find("://"); scheme != std::string::npos) {
    auto name = address.substr(0, scheme);
    if (name != "tls" && name != "tcp")
      throw call_error("bad_request",
                       "the endpoint's scheme must be tls:// or tcp://, got '" +
                           endpoint + "'");
    tls.enabled = name == "tls";
    address = address.substr(scheme + 3);
  }
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size())
    throw call_error("bad_request",
                     "the endpoint must be host:port, got '" + endpoint + "'");
  auto host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  auto c = std::make_unique<connection>(host, address.substr(colon + 1), api_secret,
                                        std::move(options), std::move(tls));
  c->start();
  return std::shared_ptr<client>(new client(std::move(c)));
}

client::client(std::unique_ptr<connection> c) : connection_(std::move(c)) {}

client::~client() {
  close();
}

std::future<call_outcome> client::call_raw(std::string service, std::string fn,
                                           bytes args, call_options options) {
  auto promise = std::make_shared<std::promise<call_outcome>>();
  auto future = promise->get_future();
  submit(std::move(service), std::move(fn), std::move(args), options,
         [promise](call_outcome* outcome, std::exception_ptr error) {
           if (error)
             promise->set_exception(error);
           else
             promise->set_value(std::move(*outcome));
         });
  return future;
}

void client::submit(std::string service, std::string fn, bytes args, call_options options,
                    completion done) {
  connection_->submit(std::move(service), std::move(fn), std::move(args), options,
                      std::move(done));
}

std::future<kind_status> client::configure_kind(std::string kind,
                                                kind_settings settings) {
  auto setting = [](const auto& value) {
    protocol::kind_setting out;
    if (value) {
      out.given = out.integer = true;
      out.value = static_cast<std::int64_t>(value->count());
    }
    return out;
  };
  protocol::kind_settings_map map{setting(settings.backoff_base),
                                  setting(settings.backoff_cap),
                                  setting(settings.timeout),
                                  setting(settings.inform_interval)};
  auto promise = std::make_shared<std::promise<kind_status>>();
  auto future = promise->get_future();
  connection_->configure_kind(
      std::move(kind), map,
      [promise](protocol::kind_settings* answer, std::exception_ptr error) {
        if (error)
          return promise->set_exception(error);
        kind_status status;
        status.kind = std::move(answer->kind);
        status.backoff_base = std::chrono::milliseconds{answer->backoff_base_ms};
        status.backoff_cap = std::chrono::milliseconds{answer->backoff_cap_ms};
        status.timeout = std::chrono::seconds{answer->timeout_seconds};
        if (answer->inform_interval_seconds > 0)
          status.inform_interval = std::chrono::seconds{answer->inform_interval_seconds};
        if (answer->last_informed_at > 0)
          status.last_informed_at = std::chrono::system_clock::time_point{
              std::chrono::milliseconds{answer->last_informed_at}};
        status.inform_error = std::move(answer->inform_error);
        promise->set_value(std::move(status));
      });
  return future;
}

void client::serve(std::string service, std::map<std::string, handler> functions,
                   unsigned concurrency) {
  connection_->serve(std::move(service), std::move(functions), concurrency);
}

bool client::connected() const {
  return connection_->connected();
}

void client::close() {
  connection_->close();
}

} // namespace diffplane::client
