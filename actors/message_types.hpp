#pragma once

#include "actors/cluster_actor.hpp"
#include "actors/job_actor.hpp"
#include "actors/node_actor.hpp"
#include "actors/pool_actor.hpp"

#include <caf/detail/type_list.hpp>
#include <caf/fwd.hpp>

#include <vector>

namespace diffplane {

/// Every type that travels in a message, with the name it is announced under. The one
/// list both register_message_types and the round-trip test walk.
#define DIFFPLANE_MESSAGE_TYPES(X)                                                       \
  X(cluster_record)                                                                      \
  X(job_record)                                                                          \
  X(job_state_write)                                                                     \
  X(live_jobs_move)                                                                      \
  X(job_status_row)                                                                      \
  X(job_summary)                                                                         \
  X(machine_record)                                                                      \
  X(service_record)                                                                      \
  X(event_record)                                                                        \
  X(client_event_record)                                                                 \
  X(cache_entry_record)                                                                  \
  X(cached_resolution_query)                                                             \
  X(cluster_snapshot)                                                                    \
  X(live_jobs_page_request)                                                              \
  X(live_jobs_page)                                                                      \
  X(cluster_settings_write)                                                              \
  X(activity_query)                                                                      \
  X(metrics_query)                                                                       \
  X(function_summary)                                                                    \
  X(timeseries_bin)                                                                      \
  X(function_metrics)                                                                    \
  X(service_details_request)                                                             \
  X(service_details)                                                                     \
  X(cluster_settings)                                                                    \
  X(job_detail)                                                                          \
  X(std::vector<job_record>)                                                             \
  X(create_job_request)                                                                  \
  X(jobs_request)                                                                        \
  X(dispatched_job)                                                                      \
  X(job_result_post)                                                                     \
  X(status_request)                                                                      \
  X(client_events_post)                                                                  \
  X(cluster_details)                                                                     \
  X(job_status_changed)                                                                  \
  X(std::vector<job_status_changed>)                                                     \
  X(job_finished)                                                                        \
  X(std::vector<cluster_record>)                                                         \
  X(std::vector<job_status_row>)                                                         \
  X(std::vector<job_summary>)                                                            \
  X(std::vector<event_record>)                                                           \
  X(std::vector<client_event_record>)                                                    \
  X(std::vector<cache_entry_record>)                                                     \
  X(std::vector<dispatched_job>)                                                         \
  X(resource_record)                                                                     \
  X(resource_write)                                                                      \
  X(loaded_resource)                                                                     \
  X(std::vector<loaded_resource>)                                                        \
  X(resource_kind_record)                                                                \
  X(resources_snapshot)                                                                  \
  X(resource_kind_request)                                                               \
  X(resource_namespace_record)                                                           \
  X(resource_namespace_request)                                                          \
  X(resource_key)                                                                        \
  X(resource_command)                                                                    \
  X(resource_command_result)                                                             \
  X(resource_query)                                                                      \
  X(resource_page)                                                                       \
  X(resource_counts_query)                                                               \
  X(resource_count)                                                                      \
  X(std::vector<resource_count>)                                                         \
  X(resource_input)                                                                      \
  X(resource_inform_request)                                                             \
  X(inform_result)                                                                       \
  X(std::vector<inform_result>)                                                          \
  X(resource_event_record)                                                               \
  X(std::vector<resource_event_record>)                                                  \
  X(resource_events_request)                                                             \
  X(resource_events_page)                                                                \
  X(resources_actor)                                                                     \
  X(resource_host)                                                                       \
  X(persistence_actor)                                                                   \
  X(cluster_actor)                                                                       \
  X(pool_actor)                                                                          \
  X(job_actor)                                                                           \
  X(node_actor)                                                                          \
  X(mesh_gate_actor)                                                                     \
  X(node_row)                                                                            \
  X(lease_row)                                                                           \
  X(held_lease)                                                                          \
  X(lease_grant)                                                                         \
  X(membership_view)                                                                     \
  X(std::vector<held_lease>)                                                             \
  X(forward_batch)                                                                       \
  X(forward_answers)

/// Announces every message type and our error category to `cfg`.
void register_message_types(caf::actor_system_config& cfg);

} // namespace diffplane
