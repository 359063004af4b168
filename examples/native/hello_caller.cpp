// Calls service `hello` (the README's TypeScript service, or hello_worker) and prints
// the answers.
//   DIFFPLANE_NATIVE=127.0.0.1:4001 DIFFERENTIAL_API_SECRET=sk_... hello_caller
#include <diffplane/client/client.hpp>

#include <cstdlib>
#include <iostream>

namespace dc = diffplane::client;

int main() {
  const char* endpoint = std::getenv("DIFFPLANE_NATIVE");
  const char* secret = std::getenv("DIFFERENTIAL_API_SECRET");
  if (secret == nullptr) {
    std::cerr << "set DIFFERENTIAL_API_SECRET to the cluster's API secret\n";
    return 2;
  }
  try {
    auto client = dc::client::connect(endpoint ? endpoint : "127.0.0.1:4001", secret);
    auto greeting = client->call<std::string>("hello", "greet", std::string{"world"});
    auto sum = client->call<double>("hello", "add", 2, 3);
    std::cout << greeting.get() << "\n";
    std::cout << "2 + 3 = " << sum.get() << std::endl;
  } catch (const dc::call_error& e) {
    std::cerr << "hello_caller: " << e.name() << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}
