#define CAF_SUITE native_clients

#include "http_test_helpers.hpp"
#include "native_frames.hpp"
#include "raw_connection.hpp"

#include "native/base64.hpp"

#include <diffplane/client/client.hpp>

#include <caf/test/unit_test.hpp>
#include <pqxx/pqxx>

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace diffplane;
using namespace diffplane::testing;
using nlohmann::json;

// The native protocol against a real server and Postgres: refusals at the edge
// (secret, frame sizes, garbage), calls and serving interoperating with HTTP workers
// and callers, and a worker whose connection ends.
namespace {

using clock_type = std::chrono::steady_clock;

struct fixture : server_fixture {
  fixture() : server_fixture({"--native-listen", "127.0.0.1:0"}) {}

  std::string secret = create_cluster("native");

  std::string endpoint() const {
    return "127.0.0.1:" + std::to_string(server.native_port());
  }

  std::shared_ptr<client::client> connect() {
    return client::client::connect(endpoint(), secret);
  }

  cli::http_reply data(const std::string& method, const std::string& target,
                       const std::string& body = {}, const std::string& machine = {}) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!machine.empty())
      headers.emplace_back("x-machine-id", machine);
    return call(method, target, secret, body, headers);
  }

  std::string create_over_http(const std::string& fn, const client::bytes& args,
                               int retries = 1) {
    json body{
        {"service", "svc"},
        {"targetFn", fn},
        {"targetArgs", native::base64_encode(std::string(args.begin(), args.end()))},
        {"callConfig",
         {{"retryCountOnStall", retries},
          {"timeoutSeconds", 60},
          {"predictiveRetriesOnRejection", false}}}};
    auto reply = data("POST", "/jobs", body.dump());
    CAF_REQUIRE_EQUAL(reply.status, 201u);
    return parse_json(reply.body)["id"].get<std::string>();
  }

  json wait_for_job(const std::string& id) {
    auto reply = data("GET", "/jobs/" + id + "?ttl=10000");
    CAF_REQUIRE_EQUAL(reply.status, 200u);
    return parse_json(reply.body);
  }
};

/// The code of the last frame, which must be an error.
std::string error_code_of(const std::string& bytes) {
  auto frames = frames_of(bytes);
  CAF_REQUIRE(!frames.empty());
  const auto& last = frames.back().get();
  CAF_REQUIRE(protocol::type_of(last) == protocol::frame_type::error);
  return protocol::decode<protocol::error>(last).code;
}

std::size_t resident_kb(pid_t pid) {
  std::ifstream status{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stoul(line.substr(6));
  return 0;
}

std::string as_text(const client::bytes& b) {
  return std::string(b.begin(), b.end());
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(native_clients_tests, fixture)

CAF_TEST(a wrong secret is refused and the connection closed) {
  raw_connection raw{server.native_port()};
  raw.send(protocol::encode(protocol::hello{protocol::version, "sk_wrong", "test"}));
  auto answer = raw.read_to_end(std::chrono::seconds{5});
  CAF_CHECK_EQUAL(error_code_of(answer), "unauthorized");
  try {
    client::client::connect(endpoint(), "sk_wrong");
    CAF_FAIL("connected with a wrong secret");
  } catch (const client::call_error& e) {
    CAF_CHECK_EQUAL(e.name(), "unauthorized");
  }
}

CAF_TEST(a tls client of a plain listener is refused at once) {
  client::connect_options options;
  options.connect_timeout = std::chrono::seconds{20};
  auto started = clock_type::now();
  try {
    client::client::connect("tls://" + endpoint(), secret, options);
    CAF_FAIL("a TLS session with a plain listener");
  } catch (const client::call_error& e) {
    CAF_CHECK_EQUAL(e.name(), "tls_failed");
    CAF_MESSAGE("refused: " << e.what());
  }
  // Not after the connect timeout: there is nothing to retry.
  CAF_CHECK_LESS(clock_type::now() - started, std::chrono::seconds{10});
}

CAF_TEST(nothing is served before the hello) {
  raw_connection raw{server.native_port()};
  raw.send(protocol::encode(protocol::call{"c1", "svc", "f", client::pack_args(1), {}}));
  CAF_CHECK_EQUAL(error_code_of(raw.read_to_end(std::chrono::seconds{5})),
                  "not_authenticated");
  raw_connection old{server.native_port()};
  old.send(protocol::encode(protocol::hello{99, secret, "test"}));
  CAF_CHECK_EQUAL(error_code_of(old.read_to_end(std::chrono::seconds{5})),
                  "unsupported_version");
}

CAF_TEST(a frame claiming 1 GiB is refused without the server growing) {
  auto before = resident_kb(server.pid());
  for (int i = 0; i < 20; ++i) {
    raw_connection raw{server.native_port()};
    raw.send(std::string{"\x40\x00\x00\x00", 4} + std::string(1000, 'x'));
    CAF_CHECK_EQUAL(error_code_of(raw.read_to_end(std::chrono::seconds{5})),
                    "frame_too_large");
  }
  // Authenticated, the limit is the announced max_frame, still far below 1 GiB.
  raw_connection raw{server.native_port()};
  raw.send(protocol::encode(protocol::hello{protocol::version, secret, "test"}) +
           std::string{"\x40\x00\x00\x00", 4});
  CAF_CHECK_EQUAL(error_code_of(raw.read_to_end(std::chrono::seconds{5})),
                  "frame_too_large");
  auto after = resident_kb(server.pid());
  CAF_MESSAGE("resident before " << before << " kB, after " << after << " kB");
  CAF_CHECK_LESS(after, before + 16 * 1024);
}

CAF_TEST(garbage bytes close that connection and nothing else) {
  auto worker = connect();
  raw_connection raw{server.native_port()};
  raw.send(protocol::encode(protocol::hello{protocol::version, secret, "test"}) +
           std::string{"\x00\x00\x00\x03\xc1\xc1\xc1", 7});
  CAF_CHECK_EQUAL(error_code_of(raw.read_to_end(std::chrono::seconds{5})), "bad_frame");
  auto id = worker->background("svc", "f", 1).get();
  CAF_CHECK(!id.empty());
  CAF_CHECK(worker->connected());
  CAF_CHECK_EQUAL(data("GET", "/live").status, 200u);
}

CAF_TEST(frames pipelined in one write or split byte by byte are each answered) {
  protocol::call_options background;
  background.background = true;
  auto call = [&](int i) {
    return protocol::encode(protocol::call{"pipelined-" + std::to_string(i), "svc", "f",
                                           client::pack_args(i), background});
  };
  raw_connection raw{server.native_port()};
  // The hello and three calls in one write: the calls wait for the welcome.
  raw.send(protocol::encode(protocol::hello{protocol::version, secret, "test"}) +
           call(0) + call(1) + call(2));
  // A fourth one byte at a time.
  for (char byte : call(3)) {
    raw.send(std::string(1, byte));
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  std::set<std::string> accepted;
  std::string received;
  auto deadline = clock_type::now() + std::chrono::seconds{10};
  while (accepted.size() < 4 && clock_type::now() < deadline) {
    received += raw.read_to_end(std::chrono::milliseconds{200});
    accepted.clear();
    for (const auto& frame : frames_of(received)) {
      CAF_REQUIRE(protocol::type_of(frame.get()) != protocol::frame_type::error);
      if (protocol::type_of(frame.get()) == protocol::frame_type::accepted)
        accepted.insert(protocol::decode<protocol::accepted>(frame.get()).call_id);
    }
  }
  CAF_REQUIRE_EQUAL(accepted.size(), 4u);
  CAF_CHECK(protocol::type_of(frames_of(received).front().get()) ==
            protocol::frame_type::welcome);
}

CAF_TEST(a native call is answered when an HTTP worker resolves it) {
  auto caller = connect();
  auto answer = caller->call<std::string>("svc", "shout", std::string{"hi"});
  json jobs;
  for (int i = 0; i < 50 && jobs.empty(); ++i) {
    auto reply = data("POST", "/jobs-request",
                      R"({"service":"svc","limit":10,"ttl":5000})", "http-worker");
    CAF_REQUIRE_EQUAL(reply.status, 200u);
    jobs = parse_json(reply.body);
  }
  CAF_REQUIRE_EQUAL(jobs.size(), 1u);
  CAF_CHECK_EQUAL(jobs[0]["targetFn"].get<std::string>(), "shout");
  CAF_CHECK_EQUAL(jobs[0]["targetArgs"].get<std::string>(),
                  native::base64_encode(as_text(client::pack_args(std::string{"hi"}))));
  auto id = jobs[0]["id"].get<std::string>();
  json result{
      {"result", native::base64_encode(as_text(client::pack_value(std::string{"HI"})))},
      {"resultType", "resolution"},
      {"functionExecutionTime", 1}};
  CAF_CHECK_EQUAL(
      data("POST", "/jobs/" + id + "/result", result.dump(), "http-worker").status, 204u);
  CAF_REQUIRE(answer.wait_for(std::chrono::seconds{10}) == std::future_status::ready);
  CAF_CHECK_EQUAL(answer.get(), "HI");
}

CAF_TEST(a resent call creates no second job) {
  raw_connection raw{server.native_port()};
  auto call = protocol::encode(
      protocol::call{"fixed-call-1", "svc", "f", client::pack_args(1), {}});
  raw.send(protocol::encode(protocol::hello{protocol::version, secret, "test"}) + call +
           call);
  std::this_thread::sleep_for(std::chrono::milliseconds{500});
  auto reply =
      data("POST", "/jobs-request", R"({"service":"svc","limit":10,"ttl":5000})", "w");
  auto jobs = parse_json(reply.body);
  CAF_REQUIRE_EQUAL(jobs.size(), 1u);
  CAF_CHECK_EQUAL(jobs[0]["id"].get<std::string>(), "fixed-call-1");
}

CAF_TEST(a native worker serves a job created over HTTP and shows in the views) {
  auto worker = connect();
  worker->serve("svc",
                {{"greet", client::make_handler([](const std::string& name) {
                    return "Hello, " + name + "!";
                  })},
                 {"add", client::make_handler([](double a, double b) { return a + b; })}},
                2);
  auto greeted = create_over_http("greet", client::pack_args(std::string{"world"}));
  auto added = create_over_http("add", client::pack_args(2, 3));
  auto wrong = create_over_http("add", client::pack_args(std::string{"two"}, 3));
  auto row = wait_for_job(greeted);
  CAF_CHECK_EQUAL(row["status"].get<std::string>(), "success");
  CAF_CHECK_EQUAL(
      row["result"].get<std::string>(),
      native::base64_encode(as_text(client::pack_value(std::string{"Hello, world!"}))));
  row = wait_for_job(added);
  CAF_CHECK_EQUAL(row["result"].get<std::string>(),
                  native::base64_encode(as_text(client::pack_value(5.0))));
  row = wait_for_job(wrong);
  CAF_CHECK_EQUAL(row["resultType"].get<std::string>(), "rejection");
  auto rejection = native::base64_decode(row["result"].get<std::string>());
  CAF_REQUIRE(rejection.has_value());
  auto error =
      client::error_of_rejection(client::bytes(rejection->begin(), rejection->end()));
  CAF_CHECK_EQUAL(error.name(), "DecodeError");
  auto details = parse_json(
      manage("GET", "/clusters/" + cluster_with("native")["id"].get<std::string>()).body);
  CAF_REQUIRE_EQUAL(details["machines"].size(), 1u);
  CAF_CHECK_EQUAL(details["machines"][0]["pool"].get<std::string>(), "svc");
  CAF_REQUIRE_EQUAL(details["definitions"].size(), 1u);
  CAF_CHECK_EQUAL(details["definitions"][0]["functions"].size(), 2u);
}

CAF_TEST(a C++ caller calls a C++ worker) {
  auto worker = connect();
  worker->serve("svc",
                {{"add", client::make_handler([](double a, double b) { return a + b; })}},
                4);
  auto caller = connect();
  std::vector<std::future<double>> sums;
  for (int i = 0; i < 20; ++i)
    sums.push_back(caller->call<double>("svc", "add", i, 1));
  for (int i = 0; i < 20; ++i) {
    CAF_REQUIRE(sums[i].wait_for(std::chrono::seconds{10}) == std::future_status::ready);
    CAF_CHECK_EQUAL(sums[i].get(), i + 1.0);
  }
  try {
    caller->call<double>("svc", "nope").get();
    CAF_FAIL("an unknown function resolved");
  } catch (const client::call_error& e) {
    CAF_CHECK(std::string{e.what()}.find("nope") != std::string::npos);
  }
}

CAF_TEST(an ephemeral call is answered by a native worker and leaves no row) {
  auto worker = connect();
  worker->serve("svc",
                {{"add", client::make_handler([](double a, double b) { return a + b; })}},
                4);
  auto caller = connect();
  client::call_options options;
  options.durable = false;
  std::vector<std::future<client::call_outcome>> calls;
  for (int i = 0; i < 10; ++i)
    calls.push_back(caller->call_raw("svc", "add", client::pack_args(i, 1), options));
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) {
    CAF_REQUIRE(calls[i].wait_for(std::chrono::seconds{10}) == std::future_status::ready);
    auto outcome = calls[i].get();
    CAF_CHECK_EQUAL(outcome.status, "success");
    CAF_CHECK_EQUAL(outcome.result_type, "resolution");
    CAF_CHECK_EQUAL(client::unpack_value<double>(outcome.value), i + 1.0);
    ids.push_back(outcome.job_id);
  }
  // A durable call after them: once its row is there, the writer has had every write
  // the ephemeral calls could have sent before it.
  auto durable_call = caller->call_raw("svc", "add", client::pack_args(1, 1));
  CAF_REQUIRE(durable_call.wait_for(std::chrono::seconds{10}) ==
              std::future_status::ready);
  auto durable_id = durable_call.get().job_id;
  pqxx::connection db{database_url};
  pqxx::nontransaction txn{db};
  auto rows = [&](const std::string& table, const std::string& column,
                  const std::string& id) {
    return txn
        .exec_params("SELECT count(*) FROM " + table + " WHERE " + column + " = $1",
                     id)[0][0]
        .as<int>();
  };
  CAF_CHECK_EQUAL(rows("jobs", "id", durable_id), 1);
  for (const auto& id : ids) {
    CAF_CHECK_EQUAL(rows("jobs", "id", id), 0);
    CAF_CHECK_EQUAL(rows("live_jobs", "id", id), 0);
    CAF_CHECK_EQUAL(rows("events", "job_id", id), 0);
  }
}

CAF_TEST(a worker whose connection ends has its job retried on another within a second) {
  std::promise<void> started;
  std::promise<void> release;
  auto released = release.get_future().share();
  auto first = connect();
  first->serve("svc", {{"slow", client::make_handler([&started, released](int) {
                          started.set_value();
                          released.wait_for(std::chrono::seconds{20});
                          return std::string{"first"};
                        })}},
               1);
  auto id = create_over_http("slow", client::pack_args(1), 1);
  CAF_REQUIRE(started.get_future().wait_for(std::chrono::seconds{10}) ==
              std::future_status::ready);
  auto second = connect();
  second->serve(
      "svc", {{"slow", client::make_handler([](int) { return std::string{"second"}; })}},
      1);
  auto ended = clock_type::now();
  // close() ends the connection at once, then waits for the handler we release below.
  auto closing = std::async(std::launch::async, [&] { first->close(); });
  auto row = wait_for_job(id);
  auto took = clock_type::now() - ended;
  release.set_value();
  closing.get();
  CAF_CHECK_EQUAL(row["status"].get<std::string>(), "success");
  CAF_CHECK_EQUAL(
      row["result"].get<std::string>(),
      native::base64_encode(as_text(client::pack_value(std::string{"second"}))));
  CAF_MESSAGE("retried on the second worker after "
              << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
              << " ms");
  CAF_CHECK_LESS(took, std::chrono::seconds{1});
}

CAF_TEST(a durable call gets its result as posted unless it asks for the committed one) {
  // Each job's handler waits until the test has locked the jobs table, so the result's
  // write waits for the test's transaction.
  std::mutex mutex;
  std::condition_variable changed;
  int started = 0;
  int opened = 0;
  auto worker = connect();
  worker->serve("svc", {{"f", client::make_handler([&](int x) {
                           std::unique_lock lock{mutex};
                           ++started;
                           changed.notify_all();
                           changed.wait(lock, [&] { return opened >= started; });
                           return x * 2;
                         })}},
                1);
  auto caller = connect();
  pqxx::connection db{database_url};
  auto call_while_locked = [&](bool committed_result, int x) {
    client::call_options options;
    options.committed_result = committed_result;
    auto answer = caller->call_raw("svc", "f", client::pack_args(x), options);
    std::unique_lock lock{mutex};
    CAF_REQUIRE(changed.wait_for(lock, std::chrono::seconds{10},
                                 [&] { return started == opened + 1; }));
    auto txn = std::make_unique<pqxx::work>(db);
    txn->exec("LOCK TABLE jobs IN EXCLUSIVE MODE");
    ++opened;
    changed.notify_all();
    return std::make_pair(std::move(answer), std::move(txn));
  };
  auto stored_status = [&](const std::string& id) {
    pqxx::connection reader{database_url};
    pqxx::nontransaction sql{reader};
    return sql.exec_params1("SELECT status FROM jobs WHERE id = $1", id)[0]
        .as<std::string>();
  };

  auto [posted, first_lock] = call_while_locked(false, 1);
  CAF_REQUIRE(posted.wait_for(std::chrono::seconds{10}) == std::future_status::ready);
  auto outcome = posted.get();
  CAF_CHECK_EQUAL(client::unpack_value<int>(outcome.value), 2);
  // The caller has it while its write still waits for the lock.
  auto status = stored_status(outcome.job_id);
  CAF_CHECK_NOT_EQUAL(status, "success");
  first_lock->commit();
  first_lock.reset();
  status = wait_for_job(outcome.job_id)["status"].get<std::string>();
  CAF_CHECK_EQUAL(status, "success");

  auto [committed, second_lock] = call_while_locked(true, 2);
  CAF_CHECK(committed.wait_for(std::chrono::seconds{1}) == std::future_status::timeout);
  second_lock->commit();
  CAF_REQUIRE(committed.wait_for(std::chrono::seconds{10}) == std::future_status::ready);
  outcome = committed.get();
  CAF_CHECK_EQUAL(client::unpack_value<int>(outcome.value), 4);
  status = stored_status(outcome.job_id);
  CAF_CHECK_EQUAL(status, "success");
}

CAF_TEST(a client of one cluster cannot touch another cluster s jobs) {
  auto other_secret = create_cluster("other");
  // A job of the other cluster, over HTTP.
  json body{{"service", "svc"}, {"targetFn", "f"}, {"targetArgs", "kQE="}};
  auto reply = call("POST", "/jobs", other_secret, body.dump());
  CAF_REQUIRE_EQUAL(reply.status, 201u);
  auto other_job = parse_json(reply.body)["id"].get<std::string>();
  // This cluster's worker serves the same service name and gets nothing of it.
  std::atomic<int> handled{0};
  auto worker = connect();
  worker->serve("svc",
                {{"f", client::make_handler([&handled](int) { return ++handled; })}}, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds{500});
  CAF_CHECK_EQUAL(handled.load(), 0);
  // Nor can it post a result for it: the raw frame reaches only its own cluster.
  raw_connection raw{server.native_port()};
  raw.send(protocol::encode(protocol::hello{protocol::version, secret, "test"}) +
           protocol::encode(protocol::serve{"svc", {"f"}, "intruder", ""}) +
           protocol::encode(protocol::job_result{other_job, 1, "resolution",
                                                 client::pack_value(1), 1}));
  std::this_thread::sleep_for(std::chrono::milliseconds{500});
  // The operator's view answers at once (a status poll would wait for a change).
  auto other_id = cluster_with("other")["id"].get<std::string>();
  auto detail = manage("GET", "/clusters/" + other_id + "/jobs/" + other_job);
  CAF_REQUIRE_EQUAL(detail.status, 200u);
  CAF_CHECK_EQUAL(parse_json(detail.body)["status"].get<std::string>(), "pending");
}

CAF_TEST(a connection serves a bounded number of services and backs off when refused) {
  server_fixture bounded{
      {"--native-listen", "127.0.0.1:0", "--max-services-per-cluster", "2"}};
  auto bounded_secret = bounded.create_cluster("bounded");
  raw_connection raw{bounded.server.native_port()};
  std::string frames =
      protocol::encode(protocol::hello{protocol::version, bounded_secret, "test"});
  for (int i = 0; i < 1005; ++i) {
    auto service = "s" + std::to_string(i);
    frames += protocol::encode(protocol::serve{service, {"f"}, "many", ""}) +
              protocol::encode(protocol::credit{service, 1});
  }
  CAF_REQUIRE(raw.send(frames));
  auto received = raw.read_to_end(std::chrono::milliseconds{4500});
  std::map<std::string, int> limit_errors;
  std::set<std::string> over_connection;
  for (const auto& frame : frames_of(received)) {
    if (protocol::type_of(frame.get()) != protocol::frame_type::error)
      continue;
    auto e = protocol::decode<protocol::error>(frame.get());
    if (e.code == "bad_request")
      over_connection.insert(e.ref);
    else if (e.code == "limit_reached")
      ++limit_errors[e.ref];
  }
  // Services 1000 to 1004 are refused by the connection, and credit for them too.
  CAF_CHECK_EQUAL(over_connection.size(), 5u);
  CAF_CHECK(over_connection.count("s1004") == 1);
  // The cluster serves two of them (whichever came first) and refuses the other 998 for
  // its limit; each is asked for again after 1, then 2 seconds (then 4 ...), not every
  // second: in 4.5 s at most three refusals, not five.
  CAF_CHECK_EQUAL(limit_errors.size(), 998u);
  auto [fewest, most] = std::minmax_element(
      limit_errors.begin(), limit_errors.end(),
      [](const auto& a, const auto& b) { return a.second < b.second; });
  CAF_CHECK_GREATER_OR_EQUAL(fewest->second, 2);
  CAF_CHECK_LESS_OR_EQUAL(most->second, 3);
}

CAF_TEST(a connection waits for at most as many calls as its cluster can park) {
  server_fixture bounded{
      {"--native-listen", "127.0.0.1:0", "--max-parked-polls-per-cluster", "3"}};
  auto bounded_secret = bounded.create_cluster("bounded");
  auto port = bounded.server.native_port();
  auto call_frame = [](const std::string& id, bool background) {
    protocol::call_options options;
    options.background = background;
    return protocol::encode(
        protocol::call{id, "later", "echo", client::pack_args(7), options});
  };
  raw_connection raw{port};
  std::string frames =
      protocol::encode(protocol::hello{protocol::version, bounded_secret, "test"});
  for (int i = 0; i < 5; ++i)
    frames += call_frame("c" + std::to_string(i), false);
  frames += call_frame("background", true);
  CAF_REQUIRE(raw.send(frames));
  // Read until every call has its first answer: accepted, or refused.
  std::map<std::string, std::string> first_answer;
  std::set<std::string> results;
  std::string received;
  auto read_until = [&](auto done) {
    auto deadline = clock_type::now() + std::chrono::seconds{15};
    while (!done() && clock_type::now() < deadline) {
      received += raw.read_to_end(std::chrono::milliseconds{100});
      consume_frames(received, [&](const msgpack::object& body) {
        auto type = protocol::type_of(body);
        if (type == protocol::frame_type::accepted)
          first_answer.emplace(protocol::decode<protocol::accepted>(body).call_id,
                               "accepted");
        else if (type == protocol::frame_type::error) {
          auto e = protocol::decode<protocol::error>(body);
          first_answer.emplace(e.ref, e.code);
        } else if (type == protocol::frame_type::result)
          results.insert(protocol::decode<protocol::result>(body).call_id);
      });
    }
  };
  read_until([&] { return first_answer.size() == 6; });
  CAF_CHECK_EQUAL(first_answer["c0"], "accepted");
  CAF_CHECK_EQUAL(first_answer["c2"], "accepted");
  CAF_CHECK_EQUAL(first_answer["c3"], "limit_reached");
  CAF_CHECK_EQUAL(first_answer["c4"], "limit_reached");
  // A background call waits for nothing.
  CAF_CHECK_EQUAL(first_answer["background"], "accepted");
  // Served, the three waiting calls get their results; then the connection has room.
  auto worker =
      client::client::connect("127.0.0.1:" + std::to_string(port), bounded_secret);
  worker->serve("later", {{"echo", client::make_handler([](int i) { return i; })}}, 4);
  read_until([&] { return results.size() == 3; });
  CAF_CHECK_EQUAL(results.size(), 3u);
  CAF_REQUIRE(raw.send(call_frame("c5", false)));
  read_until([&] { return results.count("c5") == 1; });
  CAF_CHECK_EQUAL(first_answer["c5"], "accepted");
  CAF_CHECK_EQUAL(results.count("c5"), 1u);
}

CAF_TEST(a native call past the byte budget of its cluster is refused) {
  server_fixture bounded{
      {"--native-listen", "127.0.0.1:0", "--max-live-bytes-per-cluster", "100"}};
  auto bounded_secret = bounded.create_cluster("bounded");
  protocol::call_options background;
  background.background = true;
  auto call_frame = [&](const std::string& id) {
    // About 60 bytes of msgpack, 80 as the base64 the cluster holds.
    return protocol::encode(protocol::call{
        id, "svc", "f", client::pack_args(std::string(55, 'x')), background});
  };
  raw_connection raw{bounded.server.native_port()};
  CAF_REQUIRE(raw.send(
      protocol::encode(protocol::hello{protocol::version, bounded_secret, "test"}) +
      call_frame("first") + call_frame("second")));
  std::map<std::string, std::string> answers;
  std::string received;
  auto deadline = clock_type::now() + std::chrono::seconds{10};
  while (answers.size() < 2 && clock_type::now() < deadline) {
    received += raw.read_to_end(std::chrono::milliseconds{100});
    consume_frames(received, [&](const msgpack::object& body) {
      if (protocol::type_of(body) == protocol::frame_type::accepted)
        answers[protocol::decode<protocol::accepted>(body).call_id] = "accepted";
      else if (protocol::type_of(body) == protocol::frame_type::error) {
        auto e = protocol::decode<protocol::error>(body);
        answers[e.ref] = e.code;
        CAF_CHECK(e.message.find("--max-live-bytes-per-cluster") != std::string::npos);
      }
    });
  }
  CAF_CHECK_EQUAL(answers["first"], "accepted");
  CAF_CHECK_EQUAL(answers["second"], "limit_reached");
}

CAF_TEST_FIXTURE_SCOPE_END()
