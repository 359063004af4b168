#include "native/session.hpp"

#include "actors/resource_kind_settings.hpp"
#include "persistence/errors.hpp"

// The resource frames of a native session: configure_kind, which reaches the cluster's
// resources actor exactly as PUT /resources-kinds/:kind does, through the actor bridge
// (forwarded to the node that owns the cluster like every other request), after the same
// checks with the same messages (actors/resource_kind_settings.hpp).
namespace diffplane::native {

namespace {

resources::setting_value setting_of(const protocol::kind_setting& setting) {
  return {setting.given, setting.integer, setting.value};
}

std::uint64_t unsigned_of(std::int64_t value) {
  return value > 0 ? static_cast<std::uint64_t>(value) : 0;
}

} // namespace

void session::on_configure_kind(protocol::configure_kind request) {
  const auto& id = request.request_id;
  if (id.empty() || id.size() > protocol::max_call_id_length)
    return send_error(id, "bad_request",
                      "request_id must have 1 to " +
                          std::to_string(protocol::max_call_id_length) + " characters");
  if (auto problem = resources::resource_name_problem(request.kind, "kind");
      !problem.empty())
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
  bridge_.resource_kind(
      cluster_, std::move(change),
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

} // namespace diffplane::native
