#pragma once

#include <diffplane/client/codec.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

// Resource controllers (docs/resources.md): the typed shapes of a work's resource and of
// an informer's answer, and the handlers that make a controller's functions the `work`
// and `inform` of the service `resources.<kind>`. The payloads are the SDK's, so a C++
// controller and a TypeScript one are interchangeable: one map argument in, and
// {"action": ...} or an array of POST /resources items out.
namespace diffplane::client {

/// What a controller's work decided about its resource.
enum class resource_action {
  /// The outside world matches the object: the resource becomes `synced`.
  synced,
  /// The object is gone from the outside world: the resource becomes `deleted`.
  deleted,
};

/// A resource handed to a controller's work, its object decoded as Kind.
template <class Kind> struct resource {
  std::string kind;
  std::string id;
  Kind object{};
  /// The client version it was informed with, if any.
  std::optional<std::int64_t> version;
  std::string namespace_name;
  /// 1 for the first work of this object; failed attempts count up to its maxAttempts.
  std::int32_t attempt = 0;
};

/// A resource an informer returns to be informed (a POST /resources item; its kind is
/// the controller's). Kind must encode as a msgpack map: the server takes JSON objects.
template <class Kind> struct informed_resource {
  std::string id;
  Kind object{};
  std::optional<std::int64_t> version;
  /// The namespace; `default` when unset.
  std::optional<std::string> namespace_name;
  std::map<std::string, std::string> tags;
  std::optional<std::int32_t> max_attempts;
};

/// When the informer's last successful run started; empty before the first.
using inform_time = std::optional<std::chrono::system_clock::time_point>;

/// A controller's work: decides about one resource; throws to fail the attempt (the
/// error's message is kept in the resource's errors, and the work is retried).
template <class Kind>
using work_function = std::function<resource_action(const resource<Kind>&)>;

/// A controller's informer: the resources to inform, given the last successful run.
template <class Kind>
using inform_function = std::function<std::vector<informed_resource<Kind>>(inform_time)>;

/// A kind's controller settings (the body of PUT /resources-kinds/:kind); an empty one
/// is the server's default. configure_kind replaces all of them, as a PUT does.
struct kind_settings {
  /// backoffBaseMs: a failed attempt's retry waits base * 2^(attempts - 1) (1 ms to 1 day).
  std::optional<std::chrono::milliseconds> backoff_base;
  /// backoffCapMs: the longest retry wait, not below the base (1 ms to 1 day).
  std::optional<std::chrono::milliseconds> backoff_cap;
  /// timeoutSeconds: a work or informer run that takes longer fails (1 s to 1 day).
  std::optional<std::chrono::seconds> timeout;
  /// informIntervalSeconds: the informer runs this often; empty: no informer.
  std::optional<std::chrono::seconds> inform_interval;
};

/// A kind's settings in effect (the answer of GET /resources-kinds/:kind).
struct kind_status {
  std::string kind;
  std::chrono::milliseconds backoff_base{0};
  std::chrono::milliseconds backoff_cap{0};
  std::chrono::seconds timeout{0};
  /// Empty: the kind has no informer.
  std::optional<std::chrono::seconds> inform_interval;
  /// When the informer's last successful run started; empty: none.
  inform_time last_informed_at;
  /// Why the informer's last run failed; empty when it did not.
  std::string inform_error;
};

/// A namespace's limits (the body and the answer of PUT /resources-namespaces/:name);
/// an empty one is unlimited (max_workers) or off (the others); the times are 1 s to ten
/// years. configure_namespace replaces all of them, as a PUT does.
struct namespace_limits {
  /// maxWorkers: at most this many works of the namespace queued or running at once
  /// (1 to 100,000).
  std::optional<std::int64_t> max_workers;
  /// expiryTtlSeconds: a resource synced longer ago than this is worked again.
  std::optional<std::chrono::seconds> expiry_ttl;
  /// syncedRetentionSeconds: a resource synced longer ago than this is purged (when the
  /// namespace has no expiry).
  std::optional<std::chrono::seconds> synced_retention;
  /// deletedRetentionSeconds: a resource deleted longer ago than this is purged.
  std::optional<std::chrono::seconds> deleted_retention;
};

/// The service whose `work` and `inform` are the controller of `kind`.
std::string controller_service(const std::string& kind);

namespace detail {

/// A work's argument around its object, which stays msgpack until it is decoded as Kind.
struct work_argument {
  std::string kind;
  std::string id;
  const msgpack::object* object = nullptr;
  std::optional<std::int64_t> version;
  std::string namespace_name;
  std::int32_t attempt = 0;
};

/// Reads the argument array of a `work` job; throws call_error "DecodeError".
work_argument read_work_argument(const msgpack::object& args);
/// Reads the argument array of an `inform` job; throws call_error "DecodeError".
inform_time read_inform_argument(const msgpack::object& args);
/// The resolution of a work: {"action": "synced"} or {"action": "delete"}.
bytes action_payload(resource_action action);

/// An informed resource with its object already encoded.
struct encoded_resource {
  std::string id;
  bytes object;
  std::optional<std::int64_t> version;
  std::optional<std::string> namespace_name;
  std::map<std::string, std::string> tags;
  std::optional<std::int32_t> max_attempts;
};

/// The resolution of an informer: the array of POST /resources items of `kind`; throws
/// call_error "EncodeError" when an object is not a msgpack map.
bytes informed_payload(const std::string& kind,
                       const std::vector<encoded_resource>& items);

} // namespace detail

/// The handler of a controller's `work`: decodes the resource (a payload that does not
/// decode as Kind is a "DecodeError" rejection, so the attempt fails) and encodes the
/// action.
template <class Kind> handler make_work_handler(work_function<Kind> work) {
  return [work = std::move(work)](const msgpack::object& args) -> bytes {
    auto argument = detail::read_work_argument(args);
    resource<Kind> r{std::move(argument.kind),
                     std::move(argument.id),
                     Kind{},
                     argument.version,
                     std::move(argument.namespace_name),
                     argument.attempt};
    try {
      argument.object->convert(r.object);
    } catch (const std::exception& e) {
      throw call_error("DecodeError", "the object of " + r.kind + "/" + r.id +
                                          " does not decode as " +
                                          detail::type_name<Kind>() + ": " + e.what());
    }
    return detail::action_payload(work(r));
  };
}

/// The handler of a controller's `inform` for `kind`: the informer's resources, each
/// stamped with the kind.
template <class Kind>
handler make_inform_handler(std::string kind, inform_function<Kind> inform) {
  return [kind = std::move(kind),
          inform = std::move(inform)](const msgpack::object& args) {
    auto informed = inform(detail::read_inform_argument(args));
    std::vector<detail::encoded_resource> items;
    items.reserve(informed.size());
    for (auto& r : informed)
      items.push_back({std::move(r.id), pack_value(r.object), r.version,
                       std::move(r.namespace_name), std::move(r.tags), r.max_attempts});
    return detail::informed_payload(kind, items);
  };
}

/// The functions of the controller of `kind`: `work`, and `inform` when given.
template <class Kind>
std::map<std::string, handler> controller_functions(const std::string& kind,
                                                    work_function<Kind> work,
                                                    inform_function<Kind> inform = {}) {
  std::map<std::string, handler> functions;
  functions.emplace("work", make_work_handler<Kind>(std::move(work)));
  if (inform)
    functions.emplace("inform", make_inform_handler<Kind>(kind, std::move(inform)));
  return functions;
}

} // namespace diffplane::client
