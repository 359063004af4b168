#pragma once

#include "gateway/actor_bridge.hpp"

// The HTTP fuzzer drives the real router, routes and codecs; only the actors behind the
// bridge are replaced. This bridge answers at once, on the calling thread, with answers
// built from what the request carried, so the encoders see the fuzzer's text too. It
// answers as the actors do: a single status request gets a row or not_found, never an
// empty list.
namespace diffplane::fuzz {

class answering_bridge : public gateway::actor_bridge {
public:
  template <class T> using callback = gateway::callback<T>;

  void authenticate(const std::string& secret,
                    callback<gateway::cluster_ref> done) override;
  void create_cluster(std::string description, callback<cluster_record> done) override;
  void list_clusters(callback<std::vector<cluster_record>> done) override;
  void cluster_details(std::string cluster_id,
                       callback<diffplane::cluster_details> done) override;
  void service_details(std::string cluster_id, service_details_request request,
                       callback<diffplane::service_details> done) override;
  void settings(std::string cluster_id, callback<cluster_settings> done) override;
  void change_settings(std::string cluster_id, cluster_settings settings,
                       callback<bool> done) override;
  void activity(std::string cluster_id, activity_query query,
                callback<std::vector<event_record>> done) override;
  void service_metrics(std::string cluster_id, metrics_query query,
                       callback<function_metrics> done) override;
  void job_detail(std::string cluster_id, std::string job_id,
                  callback<diffplane::job_detail> done) override;
  void live(callback<bool> done) override;
  void nodes(callback<membership_view> done) override;
  void create_job(const gateway::cluster_ref& cluster, create_job_request request,
                  callback<std::string> done) override;
  void request_jobs(const gateway::cluster_ref& cluster, jobs_request request,
                    callback<std::vector<dispatched_job>> done) override;
  void post_result(const gateway::cluster_ref& cluster, job_result_post post,
                   callback<bool> done) override;
  void job_statuses(const gateway::cluster_ref& cluster, status_request request,
                    callback<std::vector<job_status_row>> done) override;
  void post_client_events(const gateway::cluster_ref& cluster, client_events_post post,
                          callback<bool> done) override;
  void machine_gone(const gateway::cluster_ref&, std::string) override {}
  void machine_alive(const gateway::cluster_ref&, std::string) override {}
  void release_long_polls() override {}
};

} // namespace diffplane::fuzz
