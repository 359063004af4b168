// Uses the installed headers and library: packs arguments, decodes a value, and fails to
// connect to a port where nothing listens with the client's error, not a crash.
#include <diffplane/client/client.hpp>

#include <iostream>

int main() {
  namespace dc = diffplane::client;
  auto args = dc::pack_args(std::string{"world"}, 2);
  auto greet = dc::make_handler([](const std::string& name, int n) {
    return name + std::to_string(n);
  });
  auto handle = diffplane::protocol::parse_value(args.data(), args.size());
  if (dc::unpack_value<std::string>(greet(handle.get())) != "world2")
    return 1;
  try {
    dc::client::connect("127.0.0.1:1", "sk_none");
    return 1;
  } catch (const dc::call_error& e) {
    std::cout << "consumer ok: " << e.name() << "\n";
  }
  return 0;
}
