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

namespace {

protocol::kind_setting setting_of(const std::optional<std::int64_t>& value) {
  protocol::kind_setting out;
  if (value) {
    out.given = out.integer = true;
    out.value = *value;
  }
  return out;
}

template <class Duration>
protocol::kind_setting setting_of(const std::optional<Duration>& value) {
  return setting_of(value ? std::optional<std::int64_t>{value->count()} : std::nullopt);
}

/// An empty duration for 0 (off, unlimited, none).
std::optional<std::chrono::seconds> seconds_or_none(std::uint64_t seconds) {
  if (seconds == 0)
    return std::nullopt;
  return std::chrono::seconds{static_cast<std::chrono::seconds::rep>(seconds)};
}

kind_status status_of(protocol::kind_settings& answer) {
  kind_status status;
  status.kind = std::move(answer.kind);
  status.backoff_base = std::chrono::milliseconds{answer.backoff_base_ms};
  status.backoff_cap = std::chrono::milliseconds{answer.backoff_cap_ms};
  status.timeout = std::chrono::seconds{answer.timeout_seconds};
  status.inform_interval = seconds_or_none(answer.inform_interval_seconds);
  if (answer.last_informed_at > 0)
    status.last_informed_at = std::chrono::system_clock::time_point{
        std::chrono::milliseconds{answer.last_informed_at}};
  status.inform_error = std::move(answer.inform_error);
  return status;
}

namespace_limits limits_of(const protocol::namespace_settings& answer) {
  namespace_limits limits;
  if (answer.max_workers > 0)
    limits.max_workers = answer.max_workers;
  limits.expiry_ttl = seconds_or_none(answer.expiry_ttl_seconds);
  limits.synced_retention = seconds_or_none(answer.synced_retention_seconds);
  limits.deleted_retention = seconds_or_none(answer.deleted_retention_seconds);
  return limits;
}

/// A request's future, fulfilled with `Answer` (the frame) converted by `convert`.
template <class Answer, class Convert>
auto settings_request(connection& c, const char* feature,
                      std::function<std::string(const std::string&)> encode,
                      Convert convert) {
  using value_type = decltype(convert(std::declval<Answer&>()));
  auto promise = std::make_shared<std::promise<value_type>>();
  auto future = promise->get_future();
  c.request(feature, std::move(encode),
            [promise, convert](const msgpack::object* answer, std::exception_ptr error) {
              if (error)
                return promise->set_exception(error);
              try {
                auto frame = protocol::decode<Answer>(*answer);
                promise->set_value(convert(frame));
              } catch (...) {
                promise->set_exception(std::current_exception());
              }
            });
  return future;
}

} // namespace

std::future<kind_status> client::configure_kind(std::string kind,
                                                diffplane::client::kind_settings settings) {
  protocol::kind_settings_map map{setting_of(settings.backoff_base),
                                  setting_of(settings.backoff_cap),
                                  setting_of(settings.timeout),
                                  setting_of(settings.inform_interval)};
  return settings_request<protocol::kind_settings>(
      *connection_, protocol::feature_configure_kind,
      [kind = std::move(kind), map](const std::string& id) {
        return protocol::encode(protocol::configure_kind{id, kind, map});
      },
      status_of);
}

std::future<kind_status> client::kind_settings(std::string kind) {
  return settings_request<protocol::kind_settings>(
      *connection_, protocol::feature_read_kind,
      [kind = std::move(kind)](const std::string& id) {
        return protocol::encode(protocol::read_kind{id, kind});
      },
      status_of);
}

std::future<namespace_limits> client::configure_namespace(std::string name,
                                                          namespace_limits limits) {
  protocol::namespace_settings_map map{
      setting_of(limits.max_workers), setting_of(limits.expiry_ttl),
      setting_of(limits.synced_retention), setting_of(limits.deleted_retention)};
  return settings_request<protocol::namespace_settings>(
      *connection_, protocol::feature_namespaces,
      [name = std::move(name), map](const std::string& id) {
        return protocol::encode(protocol::configure_namespace{id, name, map});
      },
      limits_of);
}

std::future<namespace_limits> client::namespace_settings(std::string name) {
  return settings_request<protocol::namespace_settings>(
      *connection_, protocol::feature_namespaces,
      [name = std::move(name)](const std::string& id) {
        return protocol::encode(protocol::read_namespace{id, name});
      },
      limits_of);
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
