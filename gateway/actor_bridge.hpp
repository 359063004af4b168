#pragma once

#include "actors/messages.hpp"
#include "actors/resource_messages.hpp"
#include "actors/resource_namespaces.hpp"
#include "persistence/error_code.hpp"
#include "persistence/membership_records.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

// The gateway's door into the actors. Every call is an asynchronous CAF request made by
// one of a few long-lived bridge actors; its answer arrives through the callback on a CAF
// thread. CAF stays out of this header so routes compile without it.
namespace diffplane::gateway {

struct domain_error {
  error_code code = error_code::internal;
  std::string message;
};

/// A value or the domain error that prevented it.
template <class T> struct outcome {
  std::optional<T> value;
  domain_error error;

  bool ok() const { return value.has_value(); }
  static outcome success(T v) { return outcome{std::move(v), {}}; }
  static outcome failure(domain_error e) { return outcome{std::nullopt, std::move(e)}; }
};

template <class T> using callback = std::function<void(outcome<T>)>;

/// An authenticated cluster: an opaque handle of its actor, and the SHA-256 of the API
/// secret that found it (to find it again when the actor moved).
struct cluster_ref {
  std::shared_ptr<const void> actor;
  std::string key;
};

class actor_bridge {
public:
  virtual ~actor_bridge() = default;

  /// Resolves an API secret; cached, so only the first use of a secret costs a message.
  virtual void authenticate(const std::string& secret, callback<cluster_ref> done) = 0;
  virtual void create_cluster(std::string description, callback<cluster_record> done) = 0;
  virtual void list_clusters(callback<std::vector<cluster_record>> done) = 0;
  virtual void cluster_details(std::string cluster_id,
                               callback<diffplane::cluster_details> done) = 0;
  virtual void service_details(std::string cluster_id, service_details_request request,
                               callback<diffplane::service_details> done) = 0;
  virtual void settings(std::string cluster_id, callback<cluster_settings> done) = 0;
  virtual void change_settings(std::string cluster_id, cluster_settings settings,
                               callback<bool> done) = 0;
  virtual void activity(std::string cluster_id, activity_query query,
                        callback<std::vector<event_record>> done) = 0;
  virtual void service_metrics(std::string cluster_id, metrics_query query,
                               callback<function_metrics> done) = 0;
  virtual void job_detail(std::string cluster_id, std::string job_id,
                          callback<diffplane::job_detail> done) = 0;
  /// Succeeds while the database answers.
  virtual void live(callback<bool> done) = 0;
  /// The live nodes and every cluster lease, as this node last saw them.
  virtual void nodes(callback<membership_view> done) = 0;

  virtual void create_job(const cluster_ref& cluster, create_job_request request,
                          callback<std::string> done) = 0;
  virtual void request_jobs(const cluster_ref& cluster, jobs_request request,
                            callback<std::vector<dispatched_job>> done) = 0;
  /// Succeeds with whether the result was persisted (false: not from the attempt's
  /// holder).
  virtual void post_result(const cluster_ref& cluster, job_result_post post,
                           callback<bool> done) = 0;
  virtual void job_statuses(const cluster_ref& cluster, status_request request,
                            callback<std::vector<job_status_row>> done) = 0;
  /// A status wait answered as soon as a job's result is posted, before its write
  /// commits (a native call's). A bridge that cannot tell answers once it committed.
  virtual void posted_results(const cluster_ref& cluster, status_request request,
                              callback<std::vector<job_status_row>> done) {
    job_statuses(cluster, std::move(request), std::move(done));
  }
  virtual void post_client_events(const cluster_ref& cluster, client_events_post post,
                                  callback<bool> done) = 0;
  /// A native worker's connection ended: its running jobs stall now.
  virtual void machine_gone(const cluster_ref& cluster, std::string machine_id) = 0;
  /// A native worker's connection is alive: its machine is not silent, even while it
  /// has no request for jobs parked.
  virtual void machine_alive(const cluster_ref& cluster, std::string machine_id) = 0;

  /// POST /resources: answered once the batch committed. Resource calls answer
  /// `internal` unless a bridge implements them (test bridges need not).
  virtual void inform_resources(const cluster_ref& cluster,
                                resource_inform_request request,
                                callback<std::vector<inform_result>> done) {
    (void)cluster, (void)request;
    done(outcome<std::vector<inform_result>>::failure(not_implemented()));
  }
  /// GET /resources and GET /resources/:kind/:id.
  virtual void query_resources(const cluster_ref& cluster, resource_query query,
                               callback<resource_page> done) {
    (void)cluster, (void)query;
    done(outcome<resource_page>::failure(not_implemented()));
  }
  /// GET /resources/events: a long-poll of `request.ttl_ms`.
  virtual void resource_events(const cluster_ref& cluster,
                               resource_events_request request,
                               callback<resource_events_page> done) {
    (void)cluster, (void)request;
    done(outcome<resource_events_page>::failure(not_implemented()));
  }
  /// GET /resources-counts.
  virtual void count_resources(const cluster_ref& cluster, resource_counts_query query,
                               callback<std::vector<resource_count>> done) {
    (void)cluster, (void)query;
    done(outcome<std::vector<resource_count>>::failure(not_implemented()));
  }

  /// GET and PUT /resources-kinds/:kind.
  virtual void resource_kind(const cluster_ref& cluster, resource_kind_request request,
                             callback<resource_kind_record> done) {
    (void)cluster, (void)request;
    done(outcome<resource_kind_record>::failure(not_implemented()));
  }
  /// GET and PUT /resources-namespaces/:name.
  virtual void resource_namespace(const cluster_ref& cluster,
                                  resource_namespace_request request,
                                  callback<resource_namespace_record> done) {
    (void)cluster, (void)request;
    done(outcome<resource_namespace_record>::failure(not_implemented()));
  }
  /// POST /resources/:kind/:id/invalidate and DELETE /resources/:kind/:id.
  virtual void resource_command(const cluster_ref& cluster,
                                diffplane::resource_command command,
                                callback<resource_command_result> done) {
    (void)cluster, (void)command;
    done(outcome<resource_command_result>::failure(not_implemented()));
  }

  /// Answers every parked long-poll now (shutdown).
  virtual void release_long_polls() = 0;

  /// The requests this thread makes from now until the matching end_batch() reach the
  /// actors as one message, in the order made (a native connection handles the frames
  /// of one read so: one hand-off to the actors per read, not one per frame). Nests.
  /// A bridge may ignore it: then each request is a message of its own.
  virtual void begin_batch() {}
  virtual void end_batch() {}

private:
  static domain_error not_implemented() {
    return domain_error{error_code::internal, "this bridge does not serve resources"};
  }
};

/// begin_batch() / end_batch() for a scope.
class bridge_batch {
public:
  explicit bridge_batch(actor_bridge& bridge) : bridge_(bridge) { bridge_.begin_batch(); }
  ~bridge_batch() { bridge_.end_batch(); }
  bridge_batch(const bridge_batch&) = delete;
  bridge_batch& operator=(const bridge_batch&) = delete;

private:
  actor_bridge& bridge_;
};

} // namespace diffplane::gateway
