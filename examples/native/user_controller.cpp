// A resource controller for the kind "user" in C++ (docs/resources.md): the native twin
// of examples/resources/controller.ts, keeping diffplane's users in sync with a JSON file
// of users (examples/resources/users.json unless USERS_FILE says otherwise).
// - inform: every user of the file, plus (once) those it returned before and the file no
//   longer has, marked removedFromSource, so that their work runs and deletes them.
// - work: "syncs" a user that the file has (a log line), deletes one it has not.
//   DIFFPLANE_NATIVE=127.0.0.1:4001 DIFFERENTIAL_API_SECRET=sk_... user_controller
// Turn the informer on with PUT /resources-kinds/user {"informIntervalSeconds": 5}.
#include <diffplane/client/client.hpp>

#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>

namespace dc = diffplane::client;

/// A user as the file and the TypeScript example spell it.
struct user {
  std::string id;
  std::string name;
  std::string email;
  bool removed_from_source = false;
  MSGPACK_DEFINE_MAP(id, name, email,
                     MSGPACK_NVP("removedFromSource", removed_from_source))
};

/// The users of `path` by id (none when it cannot be read).
std::map<std::string, user> read_users(const std::string& path) {
  std::map<std::string, user> users;
  std::ifstream in{path};
  auto root = nlohmann::json::parse(in, nullptr, false);
  if (!root.is_array())
    throw std::runtime_error(path + " is not a JSON array of users");
  for (const auto& u : root)
    users[u.value("id", "")] =
        user{u.value("id", ""), u.value("name", ""), u.value("email", ""), false};
  return users;
}

int main() {
  const char* endpoint = std::getenv("DIFFPLANE_NATIVE");
  const char* secret = std::getenv("DIFFERENTIAL_API_SECRET");
  const char* file = std::getenv("USERS_FILE");
  std::string users_file = file ? file : "examples/resources/users.json";
  if (secret == nullptr) {
    std::cerr << "set DIFFERENTIAL_API_SECRET to the cluster's API secret\n";
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::mutex informed_mutex;
  std::set<std::string> informed; // what the last run returned (runs never overlap)
  // Works run on several threads: one line at a time, flushed for whoever reads them.
  std::mutex out_mutex;
  auto say = [&out_mutex](const std::string& line) {
    std::lock_guard lock{out_mutex};
    std::cout << line << std::endl;
  };
  try {
    auto client = dc::client::connect(endpoint ? endpoint : "127.0.0.1:4001", secret);
    client->add_controller<user>(
        "user",
        [&](const dc::resource<user>& r) {
          if (read_users(users_file).count(r.id) == 0) {
            say("work: user " + r.id + " is gone from the source -> deleted");
            return dc::resource_action::deleted;
          }
          // A real controller would write the user into the system it keeps in sync.
          say("work: user " + r.id + " (attempt " + std::to_string(r.attempt) + ") " +
              r.object.name + " <" + r.object.email + "> -> synced");
          return dc::resource_action::synced;
        },
        [&](dc::inform_time last_run_at) {
          auto users = read_users(users_file);
          std::vector<dc::informed_resource<user>> out;
          for (auto& [id, u] : users) {
            out.emplace_back();
            out.back().id = id;
            out.back().object = u;
          }
          std::lock_guard lock{informed_mutex};
          for (const auto& id : informed)
            if (users.count(id) == 0) {
              out.emplace_back();
              out.back().id = id;
              out.back().object = user{id, "", "", true};
            }
          informed.clear();
          for (auto& [id, u] : users)
            informed.insert(id);
          say("inform: " + std::to_string(users.size()) +
              " users in the source (last run: " +
              (last_run_at
                   ? std::to_string(std::chrono::system_clock::to_time_t(*last_run_at)) +
                         " s after the epoch"
                   : std::string{"never"}) +
              ")");
          return out;
        },
        4);
    std::cout << "controller of \"user\" is running on " << users_file
              << "; stop it with Ctrl-C" << std::endl;
    int signal_number = 0;
    sigwait(&signals, &signal_number);
    client->close();
  } catch (const dc::call_error& e) {
    std::cerr << "user_controller: " << e.name() << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}
