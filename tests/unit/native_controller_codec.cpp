#define CAF_SUITE native_controller_codec

#include "actors/resource_lifecycle.hpp"
#include "gateway/informed_resources.hpp"
#include "native/base64.hpp"

#include <diffplane/client/controller.hpp>

#include <caf/test/unit_test.hpp>
#include <nlohmann/json.hpp>

using namespace diffplane;
using nlohmann::json;

// The native controller's handlers against the server's own encoders and decoders: the
// work argument as the resources actor builds it, the action and the informer's answer
// as the server reads them. So a C++ controller and an SDK one see and say the same.
namespace {

struct user {
  std::string name;
  int age = 0;
  std::optional<std::string> email;
  MSGPACK_DEFINE_MAP(name, age, email)
};

/// The msgpack bytes of a job's targetArgs (base64, as the server stores them).
msgpack::object_handle args_of(const std::string& target_args) {
  auto raw = native::base64_decode(target_args);
  CAF_REQUIRE(raw.has_value());
  return protocol::parse_value(raw->data(), raw->size());
}

template <class Kind>
client::informed_resource<Kind> informed(const std::string& id, Kind object) {
  client::informed_resource<Kind> r;
  r.id = id;
  r.object = std::move(object);
  return r;
}

resource_record stored_user(const std::string& object_json) {
  resource_record r;
  r.kind = "user";
  r.id = "42";
  r.object_json = object_json;
  r.has_version = true;
  r.version = 7;
  r.namespace_name = "eu";
  r.attempts = 2;
  return r;
}

/// How the server reads a handler's resolution of a work.
resources::work_outcome outcome_of(const client::bytes& resolution,
                                   result_kind type = result_kind::resolution) {
  return resources::outcome_of(
      job_status::success, type,
      native::base64_encode({resolution.data(), resolution.size()}));
}

std::string decode_error_of(const client::handler& h, const msgpack::object& args) {
  try {
    h(args);
  } catch (const client::call_error& e) {
    CAF_CHECK_EQUAL(e.name(), "DecodeError");
    return e.what();
  }
  CAF_FAIL("the payload decoded");
  return {};
}

} // namespace

CAF_TEST(a work sees the resource the server sends as typed values) {
  client::resource<user> seen;
  auto work = client::make_work_handler<user>([&](const client::resource<user>& r) {
    seen = r;
    return r.object.age > 30 ? client::resource_action::deleted
                             : client::resource_action::synced;
  });
  auto args = args_of(resources::work_args(stored_user(R"({"age":30,"name":"ada"})")));
  auto outcome = outcome_of(work(args.get()));
  CAF_CHECK(outcome.state == resource_state::synced);
  CAF_CHECK_EQUAL(seen.kind, "user");
  CAF_CHECK_EQUAL(seen.id, "42");
  CAF_CHECK_EQUAL(seen.object.name, "ada");
  CAF_CHECK_EQUAL(seen.object.age, 30);
  CAF_CHECK(!seen.object.email.has_value());
  CAF_CHECK(seen.version == std::optional<std::int64_t>{7});
  CAF_CHECK_EQUAL(seen.namespace_name, "eu");
  CAF_CHECK_EQUAL(seen.attempt, 2);

  auto record = stored_user(R"({"age":31,"email":"a@b","extra":[1,2],"name":"ada"})");
  record.has_version = false;
  auto older = args_of(resources::work_args(record));
  CAF_CHECK(outcome_of(work(older.get())).state == resource_state::deleted);
  CAF_CHECK(seen.object.email == std::optional<std::string>{"a@b"});
  CAF_CHECK(!seen.version.has_value());
}

CAF_TEST(an object that does not decode as Kind is a decode error) {
  bool called = false;
  auto work = client::make_work_handler<user>([&](const client::resource<user>&) {
    called = true;
    return client::resource_action::synced;
  });
  auto wrong =
      args_of(resources::work_args(stored_user(R"({"age":"old","name":"ada"})")));
  auto message = decode_error_of(work, wrong.get());
  CAF_CHECK(message.find("user/42") != std::string::npos);
  CAF_CHECK(message.find("user") != std::string::npos);

  auto not_a_resource = client::pack_args(std::string{"hello"});
  auto handle = protocol::parse_value(not_a_resource.data(), not_a_resource.size());
  CAF_CHECK(decode_error_of(work, handle.get()).find("not one map") != std::string::npos);
  auto no_args = client::pack_args();
  auto empty = protocol::parse_value(no_args.data(), no_args.size());
  decode_error_of(work, empty.get());
  auto bad_member = client::pack_args(std::map<std::string, int>{{"id", 5}});
  auto member = protocol::parse_value(bad_member.data(), bad_member.size());
  CAF_CHECK(decode_error_of(work, member.get()).find("'id'") != std::string::npos);
  CAF_CHECK(!called);
}

CAF_TEST(a rejection of a work is read by the server as its message) {
  auto rejection = client::rejection_payload("CrmDown", "the CRM answered 503");
  auto outcome = outcome_of(rejection, result_kind::rejection);
  CAF_CHECK(outcome.state == resource_state::failed);
  CAF_CHECK_EQUAL(outcome.message, "the CRM answered 503");
}

CAF_TEST(an informer gets its last run and answers POST resources items) {
  std::vector<client::inform_time> runs;
  auto inform =
      client::make_inform_handler<user>("user", [&](client::inform_time last_run_at) {
        runs.push_back(last_run_at);
        auto full = informed("42", user{"ada", 36, "a@b"});
        full.version = 3;
        full.namespace_name = "eu";
        full.tags = {{"team", "crm"}};
        full.max_attempts = 4;
        return std::vector{full, informed("43", user{"bob", 0, std::nullopt})};
      });
  auto first = args_of(resources::inform_args("user", 0));
  auto answer = inform(first.get());
  auto later = args_of(resources::inform_args("user", 1'700'000'000'123));
  inform(later.get());
  CAF_REQUIRE_EQUAL(runs.size(), 2u);
  CAF_CHECK(!runs[0].has_value());
  CAF_REQUIRE(runs[1].has_value());
  CAF_CHECK_EQUAL(
      std::chrono::duration_cast<std::chrono::milliseconds>(runs[1]->time_since_epoch())
          .count(),
      1'700'000'000'123);

  auto text = json::from_msgpack(answer).dump();
  auto items = gateway::decode_informed(text);
  CAF_REQUIRE_EQUAL(items.size(), 2u);
  CAF_CHECK_EQUAL(items[0].kind, "user");
  CAF_CHECK_EQUAL(items[0].id, "42");
  CAF_CHECK_EQUAL(json::parse(items[0].object_json),
                  (json{{"name", "ada"}, {"age", 36}, {"email", "a@b"}}));
  CAF_CHECK(items[0].has_version);
  CAF_CHECK_EQUAL(items[0].version, 3);
  CAF_CHECK_EQUAL(items[0].namespace_name, "eu");
  CAF_CHECK_EQUAL(json::parse(items[0].tags_json), (json{{"team", "crm"}}));
  CAF_CHECK_EQUAL(items[0].max_attempts, 4);
  CAF_CHECK_EQUAL(items[1].kind, "user");
  CAF_CHECK_EQUAL(items[1].id, "43");
  CAF_CHECK(!items[1].has_version);
  CAF_CHECK_EQUAL(items[1].namespace_name, "");
  CAF_CHECK_EQUAL(items[1].max_attempts, 0);
}

CAF_TEST(a version beyond 32 bits reads back exactly on both sides) {
  client::resource<user> seen;
  auto work = client::make_work_handler<user>([&](const client::resource<user>& r) {
    seen = r;
    return client::resource_action::synced;
  });
  auto record = stored_user(R"({"name":"ada"})");
  for (std::int64_t version : {std::int64_t{1} << 40, (std::int64_t{1} << 53) - 1,
                               (std::int64_t{1} << 53) + 1}) {
    record.version = version;
    auto args = args_of(resources::work_args(record));
    work(args.get());
    CAF_CHECK(seen.version == std::optional<std::int64_t>{version});
  }
  // An informer in JavaScript returns such a version as a double (msgpackr packs numbers
  // beyond 32 bits so): read as the integer it stands for, and refused when it is none.
  auto version_of = [](const std::string& version) {
    return gateway::decode_informed(R"([{"kind":"user","id":"a","object":{},"version":)" +
                                    version + "}]")
        .at(0)
        .version;
  };
  CAF_CHECK_EQUAL(version_of("1099511627776.0"), std::int64_t{1} << 40);
  CAF_CHECK_EQUAL(version_of("9007199254740991.0"), (std::int64_t{1} << 53) - 1);
  CAF_CHECK_EQUAL(version_of("9223372036854775807"),
                  std::numeric_limits<std::int64_t>::max());
  for (const char* bad : {"1.5", "-1.0", "18014398509481984.0"}) {
    try {
      version_of(bad);
      CAF_FAIL("version " << bad << " was taken");
    } catch (const std::exception& e) {
      CAF_CHECK_NOT_EQUAL(std::string{e.what()}.find("version"), std::string::npos);
    }
  }
}

CAF_TEST(an informed object that is not a map is an encode error) {
  auto inform = client::make_inform_handler<int>(
      "user", [](client::inform_time) { return std::vector{informed("1", 5)}; });
  auto args = args_of(resources::inform_args("user", 0));
  try {
    inform(args.get());
    CAF_FAIL("a number was informed as an object");
  } catch (const client::call_error& e) {
    CAF_CHECK_EQUAL(e.name(), "EncodeError");
    CAF_CHECK(std::string{e.what()}.find("user/1") != std::string::npos);
  }
  auto none = client::make_inform_handler<user>("user", [](client::inform_time) {
    return std::vector<client::informed_resource<user>>{};
  });
  auto empty = none(args.get());
  CAF_CHECK(gateway::decode_informed(json::from_msgpack(empty).dump()).empty());
}

CAF_TEST(a controller serves work and inform only when given) {
  auto work = [](const client::resource<user>&) {
    return client::resource_action::synced;
  };
  auto only_work = client::controller_functions<user>("user", work);
  CAF_CHECK_EQUAL(only_work.size(), 1u);
  CAF_CHECK_EQUAL(only_work.count("work"), 1u);
  auto both = client::controller_functions<user>("user", work, [](client::inform_time) {
    return std::vector<client::informed_resource<user>>{};
  });
  CAF_CHECK_EQUAL(both.count("inform"), 1u);
  CAF_CHECK_EQUAL(client::controller_service("user"), "resources.user");
}
