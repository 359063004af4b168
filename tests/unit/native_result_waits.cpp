#define CAF_SUITE native_result_waits

#include "gateway/actor_bridge.hpp"
#include "native/base64.hpp"
#include "native/native_server.hpp"

#include <diffplane/client/client.hpp>

#include <caf/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <string>

// A native call's result wait that fails because its cluster cannot answer for now (it
// restarts after a crash, or moves between nodes) is parked again after a pause: the
// call is answered once the cluster serves again, not failed. The real native listener
// and client, in front of a scripted bridge whose first result waits answer
// `unavailable`.
using namespace diffplane;
using namespace std::chrono_literals;

namespace {

/// Answers creates with "job-<call id>", and result waits `unavailable` until
/// `refusals` ran out, then the job's success with "HI".
class scripted_bridge final : public gateway::actor_bridge {
public:
  template <class T> using callback = gateway::callback<T>;

  std::atomic<int> refusals{2};
  std::atomic<int> waits{0};

  void authenticate(const std::string&, callback<gateway::cluster_ref> done) override {
    done(gateway::outcome<gateway::cluster_ref>::success({}));
  }
  void create_job(const gateway::cluster_ref&, create_job_request request,
                  callback<std::string> done) override {
    done(gateway::outcome<std::string>::success("job-" + request.execution_id));
  }
  void job_statuses(const gateway::cluster_ref&, status_request request,
                    callback<std::vector<job_status_row>> done) override {
    ++waits;
    if (refusals.fetch_sub(1) > 0)
      return done(unanswered<std::vector<job_status_row>>(
          error_code::unavailable, "cluster c1 is starting; retry shortly"));
    auto value = client::pack_value(std::string{"HI"});
    done(gateway::outcome<std::vector<job_status_row>>::success({job_status_row{
        request.ids.front(), job_status::success, result_kind::resolution,
        native::base64_encode(std::string(value.begin(), value.end()))}}));
  }

  void create_cluster(std::string, callback<cluster_record> done) override {
    done(unanswered<cluster_record>());
  }
  void list_clusters(callback<std::vector<cluster_record>> done) override {
    done(unanswered<std::vector<cluster_record>>());
  }
  void cluster_details(std::string, callback<diffplane::cluster_details> done) override {
    done(unanswered<diffplane::cluster_details>());
  }
  void service_details(std::string, service_details_request,
                       callback<diffplane::service_details> done) override {
    done(unanswered<diffplane::service_details>());
  }
  void settings(std::string, callback<cluster_settings> done) override {
    done(unanswered<cluster_settings>());
  }
  void change_settings(std::string, cluster_settings, callback<bool> done) override {
    done(unanswered<bool>());
  }
  void activity(std::string, activity_query,
                callback<std::vector<event_record>> done) override {
    done(unanswered<std::vector<event_record>>());
  }
  void service_metrics(std::string, metrics_query,
                       callback<function_metrics> done) override {
    done(unanswered<function_metrics>());
  }
  void job_detail(std::string, std::string,
                  callback<diffplane::job_detail> done) override {
    done(unanswered<diffplane::job_detail>());
  }
  void live(callback<bool> done) override { done(gateway::outcome<bool>::success(true)); }
  void nodes(callback<membership_view> done) override {
    done(unanswered<membership_view>());
  }
  void request_jobs(const gateway::cluster_ref&, jobs_request,
                    callback<std::vector<dispatched_job>> done) override {
    done(unanswered<std::vector<dispatched_job>>());
  }
  void post_result(const gateway::cluster_ref&, job_result_post,
                   callback<bool> done) override {
    done(unanswered<bool>());
  }
  void post_client_events(const gateway::cluster_ref&, client_events_post,
                          callback<bool> done) override {
    done(gateway::outcome<bool>::success(true));
  }
  void machine_gone(const gateway::cluster_ref&, std::string) override {}
  void machine_alive(const gateway::cluster_ref&, std::string) override {}
  void release_long_polls() override {}

private:
  template <class T>
  static gateway::outcome<T> unanswered(error_code code = error_code::internal,
                                        std::string message = "not scripted") {
    return gateway::outcome<T>::failure(gateway::domain_error{code, std::move(message)});
  }
};

struct fixture {
  scripted_bridge bridge;
  native::native_server server{native::native_server_options{}, bridge};
  std::uint16_t port = server.start();

  ~fixture() { server.stop(); }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(native_result_waits_tests, fixture)

CAF_TEST(a result wait refused while the cluster restarts is parked again) {
  auto caller = client::client::connect("127.0.0.1:" + std::to_string(port), "secret");
  auto answer = caller->call<std::string>("svc", "shout", std::string{"hi"});
  // Two refusals, a pause of a second after each.
  CAF_REQUIRE(answer.wait_for(10s) == std::future_status::ready);
  try {
    CAF_CHECK_EQUAL(answer.get(), "HI");
  } catch (const client::call_error& e) {
    CAF_FAIL("the call failed: " << e.what());
  }
  CAF_CHECK_EQUAL(bridge.waits.load(), 3);
}

CAF_TEST_FIXTURE_SCOPE_END()
