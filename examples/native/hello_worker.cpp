// Serves service `hello` from C++: greet(name) and add(a, b), the functions of the
// README's TypeScript service, so the README's TypeScript caller calls it unchanged.
//   DIFFPLANE_NATIVE=127.0.0.1:4001 DIFFERENTIAL_API_SECRET=sk_... hello_worker
#include <diffplane/client/client.hpp>

#include <csignal>
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
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  try {
    auto client = dc::client::connect(endpoint ? endpoint : "127.0.0.1:4001", secret);
    client->serve("hello",
                  {{"greet", dc::make_handler([](const std::string& name) {
                      return "Hello, " + name + "!";
                    })},
                   {"add", dc::make_handler([](double a, double b) { return a + b; })}},
                  8);
    std::cout << "hello service is running; stop it with Ctrl-C" << std::endl;
    int signal_number = 0;
    sigwait(&signals, &signal_number);
    client->close();
  } catch (const dc::call_error& e) {
    std::cerr << "hello_worker: " << e.name() << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}
