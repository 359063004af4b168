#include "native/session.hpp"

#include "actors/resource_kind_settings.hpp"
#include "actors/resource_namespace_settings.hpp"
#include "persistence/errors.hpp"

// The resource frames of a native session: configure_kind and read_kind, which reach the
// cluster's resources actor exactly as PUT and GET /resources-kinds/:kind do, and
// configure_namespace and read_namespace, as PUT and GET /resources-namespaces/:name do:
// through the actor bridge (forwarded to the node that owns the cluster like every other
// request), after the same checks with the same messages (actors/resource_kind_settings.hpp,
// actors/resource_namespace_settings.hpp). Every request goes to the session's own
// cluster: the frames name none.
namespace diffplane::native {

namespace {

resources::setting_value setting_of(const protocol::kind_setting& setting) {
  return {setting.given, setting.integer, setting.value};
}

std::uint64_t unsigned_of(std::int64_t value) {
  return value > 0 ? static_cast<std::uint64_t>(value) : 0;
}

/// Why a request's id or its kind or namespace name (`field`) is refused; empty when
/// neither is.
std::string request_problem(const std::string& id, const std::string& name,
                            const std::string& field) {
  if (id.empty() || id.size() > protocol::max_call_id_length)
    return "request_id must have 1 to " + std::to_string(protocol::max_call_id_length) +
           " characters";
  return resources::resource_name_problem(name, field);
}

} // namespace

void session::on_configure_kind(protocol::configure_kind request) {
  const auto& id = request.request_id;
  if (auto problem = request_problem(id, request.kind, "kind"); !problem.empty())
    return send_error(id, "bad_request", problem);
  resources::kind_settings_input input;
  input.backoff_base_ms = setting_of(request.settings.backoff_base_ms);
  input.backoff_cap_ms = setting_of(request.settings.backoff_cap_ms);
  input.timeout_seconds = setting_of(request.settings.timeout_seconds);
  input.inform_interval_seconds = setting_of(request.settings.inform_interval_seconds);
  auto checked = resources::check_kind_settings(request.kind, input);
  if (!checked.field.empty())
    return send_error(id, "bad_request", checked.message);
  resource_kind_request change;
  change.kind = request.kind;
  change.change = true;
  change.settings = std::move(checked.settings);
  answer_kind(std::move(change), id);
}

void session::on_read_kind(protocol::read_kind request) {
  const auto& id = request.request_id;
  if (auto problem = request_problem(id, request.kind, "kind"); !problem.empty())
    return send_error(id, "bad_request", problem);
  resource_kind_request read;
  read.kind = request.kind;
  answer_kind(std::move(read), id);
}

void session::answer_kind(resource_kind_request request, const std::string& id) {
  bridge_.resource_kind(
      cluster_, std::move(request),
      [self = shared_from_this(), id](gateway::outcome<resource_kind_record> result) {
        self->on_io_thread([self, id, result = std::move(result)] {
          if (!result.ok())
            return self->send_error(id, std::string{to_string(result.error.code)},
                                    result.error.message);
          const auto& kind = *result.value;
          self->send(protocol::encode(protocol::kind_settings{
              id, kind.kind, unsigned_of(kind.backoff_base_ms),
              unsigned_of(kind.backoff_cap_ms),
              static_cast<std::uint32_t>(unsigned_of(kind.timeout_seconds)),
              static_cast<std::uint32_t>(unsigned_of(kind.inform_interval_seconds)),
              kind.last_informed_at, kind.inform_error}));
        });
      });
}

void session::on_configure_namespace(protocol::configure_namespace request) {
  const auto& id = request.request_id;
  if (auto problem = request_problem(id, request.name, "name"); !problem.empty())
    return send_error(id, "bad_request", problem);
  resources::namespace_settings_input input;
  input.max_workers = setting_of(request.settings.max_workers);
  input.expiry_ttl_seconds = setting_of(request.settings.expiry_ttl_seconds);
  input.synced_retention_seconds = setting_of(request.settings.synced_retention_seconds);
  input.deleted_retention_seconds = setting_of(request.settings.deleted_retention_seconds);
  auto checked = resources::check_namespace_settings(request.name, input);
  if (!checked.field.empty())
    return send_error(id, "bad_request", checked.message);
  resource_namespace_request change;
  change.name = request.name;
  change.change = true;
  change.settings = std::move(checked.settings);
  answer_namespace(std::move(change), id);
}

void session::on_read_namespace(protocol::read_namespace request) {
  const auto& id = request.request_id;
  if (auto problem = request_problem(id, request.name, "name"); !problem.empty())
    return send_error(id, "bad_request", problem);
  resource_namespace_request read;
  read.name = request.name;
  answer_namespace(std::move(read), id);
}

void session::answer_namespace(resource_namespace_request request, const std::string& id) {
  auto name = request.name;
  bridge_.resource_namespace(
      cluster_, std::move(request),
      [self = shared_from_this(), id,
       name](gateway::outcome<resource_namespace_record> result) {
        self->on_io_thread([self, id, name, result = std::move(result)] {
          if (!result.ok())
            return self->send_error(id, std::string{to_string(result.error.code)},
                                    result.error.message);
          const auto& ns = *result.value;
          self->send(protocol::encode(protocol::namespace_settings{
              id, name, static_cast<std::uint32_t>(unsigned_of(ns.max_workers)),
              unsigned_of(ns.expiry_ttl_seconds), unsigned_of(ns.synced_retention_seconds),
              unsigned_of(ns.deleted_retention_seconds)}));
        });
      });
}

} // namespace diffplane::native
