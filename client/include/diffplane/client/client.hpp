#pragma once

#include <diffplane/client/codec.hpp>
#include <diffplane/client/controller.hpp>

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <string>

// The plain API of the native client: calls return futures, serve() runs handlers on
// threads of the client. docs/native-protocol.md describes the wire.
namespace diffplane::client {

/// A call's options (the SDK's callConfig).
using call_options = protocol::call_options;

struct connect_options {
  /// The longest pause between reconnection attempts (they start at 100 ms and double).
  std::chrono::milliseconds max_backoff{5000};
  /// How long the first connection may take before connect() gives up.
  std::chrono::milliseconds connect_timeout{10000};
  /// Sent in the hello, for the server's logs.
  std::string client_name = "diffplane-cpp/0.1";
  /// With a "tls://host:port" endpoint: a PEM file of the certificates that may sign the
  /// server's; empty trusts the system's store. The certificate must also name the
  /// endpoint's host.
  std::string tls_ca_file;
};

/// What a call resolved to: the job and its raw result.
struct call_outcome {
  std::string job_id;
  std::string status;
  std::string result_type;
  bytes value;
};

class connection;

/// A connection to a node for one cluster; reconnects with backoff and re-sends every
/// call without a result (same call id: the server never creates a second job).
class client {
public:
  /// Connects to "host:port" ("tcp://host:port"; "tls://host:port" for a server with
  /// --tls-cert) and authenticates with the cluster's API secret; throws call_error when
  /// the server refuses (name "unauthorized", ...), cannot be reached ("unavailable") or
  /// its TLS session cannot be trusted ("tls_failed").
  static std::shared_ptr<client> connect(const std::string& endpoint,
                                         const std::string& api_secret,
                                         connect_options options = {});
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Calls `service`.`fn` with msgpack `args` (an array); the future holds the outcome,
  /// or a call_error when the server refused the call.
  std::future<call_outcome> call_raw(std::string service, std::string fn, bytes args,
                                     call_options options = {});

  /// Calls `service`.`fn`(args...) and decodes the resolution as R; a rejection or an
  /// undecodable result is a call_error in the future.
  template <class R, class... Args>
  std::future<R> call(std::string service, std::string fn, const Args&... args) {
    return call_with<R>(std::move(service), std::move(fn), call_options{}, args...);
  }

  /// call() with options.
  template <class R, class... Args>
  std::future<R> call_with(std::string service, std::string fn, call_options options,
                           const Args&... args) {
    auto promise = std::make_shared<std::promise<R>>();
    auto future = promise->get_future();
    submit(std::move(service), std::move(fn), pack_args(args...), options,
           [promise](call_outcome* outcome, std::exception_ptr error) {
             if (error)
               return promise->set_exception(error);
             try {
               if (outcome->result_type != "resolution")
                 throw error_of_rejection(outcome->value);
               if constexpr (std::is_void_v<R>)
                 promise->set_value();
               else
                 promise->set_value(unpack_value<R>(outcome->value));
             } catch (...) {
               promise->set_exception(std::current_exception());
             }
           });
    return future;
  }

  /// Creates a background job (no result is sent); the future holds its id once the
  /// server committed it.
  template <class... Args>
  std::future<std::string> background(std::string service, std::string fn,
                                      const Args&... args) {
    call_options options;
    options.background = true;
    auto promise = std::make_shared<std::promise<std::string>>();
    auto future = promise->get_future();
    submit(std::move(service), std::move(fn), pack_args(args...), options,
           [promise](call_outcome* outcome, std::exception_ptr error) {
             if (error)
               promise->set_exception(error);
             else
               promise->set_value(outcome->job_id);
           });
    return future;
  }

  /// Serves `service` with `functions` (name -> make_handler(f)), running at most
  /// `concurrency` jobs at once on threads of the client: the server pushes jobs while
  /// the worker has free concurrency. Serve each service once.
  void serve(std::string service, std::map<std::string, handler> functions,
             unsigned concurrency);

  /// Serves the resource controller of `kind` (docs/resources.md): the service
  /// `resources.<kind>` with `work` and, when given, the informer `inform`, each job
  /// on a thread of the client, at most `concurrency` at once. A work that throws, or
  /// whose object does not decode as Kind, fails its attempt with the error's message.
  template <class Kind>
  void add_controller(const std::string& kind, work_function<Kind> work,
                      inform_function<Kind> inform = {}, unsigned concurrency = 1) {
    if (kind.empty() || !work)
      throw call_error("bad_request", "a controller needs a kind and a work function");
    serve(controller_service(kind),
          controller_functions<Kind>(kind, std::move(work), std::move(inform)),
          concurrency);
  }

  /// add_controller() after configure_kind(kind, settings) was committed: the first
  /// works already run with the settings. Blocks until then; throws its call_error.
  template <class Kind>
  void add_controller(const std::string& kind,
                      const diffplane::client::kind_settings& settings,
                      work_function<Kind> work, inform_function<Kind> inform = {},
                      unsigned concurrency = 1) {
    configure_kind(kind, settings).get();
    add_controller<Kind>(kind, std::move(work), std::move(inform), concurrency);
  }

  /// Replaces the controller settings of `kind` in this client's cluster, as PUT
  /// /resources-kinds/:kind does; the future holds the settings in effect once they are
  /// committed, or a call_error: "bad_request" naming the setting, "unsupported" from a
  /// server without the frame, or another of the server's codes.
  std::future<kind_status> configure_kind(std::string kind,
                                          diffplane::client::kind_settings settings = {});

  /// The controller settings of `kind` in this client's cluster, as GET
  /// /resources-kinds/:kind shows them (defaults filled in); a call_error as
  /// configure_kind ("unsupported" from a server without the frame).
  std::future<kind_status> kind_settings(std::string kind);

  /// Replaces the limits of namespace `name` in this client's cluster, as PUT
  /// /resources-namespaces/:name does (namespaces are the cluster's, not a kind's); the
  /// future holds the limits in effect once committed, or a call_error: "bad_request"
  /// naming the limit, "unsupported" from a server without the frame, or another of the
  /// server's codes.
  std::future<namespace_limits> configure_namespace(std::string name,
                                                    namespace_limits limits = {});

  /// The limits of namespace `name` in this client's cluster, as GET
  /// /resources-namespaces/:name shows them (all empty for a namespace never set).
  std::future<namespace_limits> namespace_settings(std::string name);

  /// Whether the connection is up now (it reconnects by itself).
  bool connected() const;

  /// Ends the connection and the served services; calls without a result fail with
  /// "ClientClosed".
  void close();

  /// Called with the outcome (or the error) of a call: on the client's I/O thread.
  using completion = std::function<void(call_outcome*, std::exception_ptr)>;
  /// The call underneath call(), call_raw() and background().
  void submit(std::string service, std::string fn, bytes args, call_options options,
              completion done);

private:
  explicit client(std::unique_ptr<connection> c);
  std::unique_ptr<connection> connection_;
};

} // namespace diffplane::client
