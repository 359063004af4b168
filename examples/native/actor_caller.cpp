// A CAF actor that calls service `hello` through the client's actor API: the result
// arrives as the response to its request, no polling and no futures.
//   DIFFPLANE_NATIVE=127.0.0.1:4001 DIFFERENTIAL_API_SECRET=sk_... actor_caller
#include <diffplane/client/actor.hpp>

#include <cstdlib>
#include <iostream>

namespace dc = diffplane::client;

namespace {

void greeter(caf::event_based_actor* self, dc::client_actor client) {
  self->request(client, caf::infinite, dc::call_atom::value, std::string{"hello"},
                std::string{"greet"}, dc::pack_args(std::string{"actor"}))
      .then(
          [self](dc::bytes& result) {
            std::cout << dc::unpack_value<std::string>(result) << std::endl;
            self->quit();
          },
          [self](caf::error& err) {
            std::cerr << "actor_caller: " << self->system().render(err) << "\n";
            self->quit(err);
          });
}

} // namespace

int main() {
  const char* endpoint = std::getenv("DIFFPLANE_NATIVE");
  const char* secret = std::getenv("DIFFERENTIAL_API_SECRET");
  if (secret == nullptr) {
    std::cerr << "set DIFFERENTIAL_API_SECRET to the cluster's API secret\n";
    return 2;
  }
  try {
    auto connection = dc::client::connect(endpoint ? endpoint : "127.0.0.1:4001", secret);
    caf::actor_system_config config;
    caf::actor_system system{config};
    auto client = dc::spawn_client_actor(system, connection);
    auto caller = system.spawn(greeter, client);
    caf::scoped_actor self{system};
    self->wait_for(caller);
    caf::anon_send_exit(client, caf::exit_reason::user_shutdown);
  } catch (const dc::call_error& e) {
    std::cerr << "actor_caller: " << e.name() << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}
