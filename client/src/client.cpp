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
