#pragma once

#include "actors/messages.hpp"
#include "gateway/http_types.hpp"
#include "persistence/membership_records.hpp"

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

// Decoders turn a request into a domain message, checking it against the SDK's contract
// (HTTP-CONTRACT.md); encoders spell domain answers as the contract's JSON.
namespace diffplane::gateway {

/// Input that breaks the contract: names the field and what is wrong with it.
struct bad_input : std::runtime_error {
  bad_input(std::string field, const std::string& message)
      : std::runtime_error(message), field(std::move(field)) {}
  std::string field;
};

/// Limits the decoders enforce beyond the contract's own.
struct decode_limits {
  std::size_t batch_status_max_ids = 20000;
};

create_job_request decode_create_job(std::string_view body);
jobs_request decode_jobs_request(const http_request& request);
job_result_post decode_job_result(const http_request& request);
status_request decode_job_status_query(const http_request& request);
status_request decode_batch_status(std::string_view body, const decode_limits& limits);
client_events_post decode_client_events(const http_request& request);
/// POST /clusters: the body is optional, as the self-hosting guide sends none.
std::string decode_cluster_description(std::string_view body);

/// PUT /clusters/:clusterId/settings.
cluster_settings decode_settings(std::string_view body);
/// ?limit= of the service route: 100..5000, 2000 by default (the contract's bounds).
std::int32_t decode_service_limit(const http_request& request);

std::string encode_service_details(const service_details& details);
std::string encode_settings(const cluster_settings& settings);
std::string encode_activity(const std::vector<event_record>& entries);
std::string encode_metrics(const function_metrics& metrics);
std::string encode_job_detail(const job_detail& detail);

std::string encode_job_id(const std::string& id);
std::string encode_dispatched_jobs(const std::vector<dispatched_job>& jobs);
std::string encode_job_status(const job_status_row& row);
std::string encode_job_statuses(const std::vector<job_status_row>& rows);
std::string encode_clusters(const std::vector<cluster_record>& clusters);
/// GET /nodes: the live nodes, each with the clusters it holds, and every lease.
std::string encode_nodes(const membership_view& view);
std::string encode_cluster_details(const cluster_details& details);

} // namespace diffplane::gateway
