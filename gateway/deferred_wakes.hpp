#pragma once

#include <functional>
#include <vector>

namespace diffplane::gateway {

/// Wakes of another thread (a post to the HTTP thread's event loop) that may wait until
/// the current actor's turn ends: a bridge actor that answers many requests in one turn
/// wakes the HTTP thread once, not once per answer.
class deferred_wakes {
public:
  deferred_wakes() = default;
  /// Runs what it still keeps: a wake is never lost.
  ~deferred_wakes() { flush(); }
  deferred_wakes(const deferred_wakes&) = delete;
  deferred_wakes& operator=(const deferred_wakes&) = delete;

  /// Runs `wake` now, or keeps it for flush() while this thread has a list current.
  static void wake(std::function<void()> wake);

  /// Runs the kept wakes, in the order kept, and forgets them.
  void flush();
  bool empty() const { return kept_.empty(); }

  /// Makes `list` this thread's current list for a scope.
  class scope {
  public:
    explicit scope(deferred_wakes& list);
    ~scope();
    scope(const scope&) = delete;
    scope& operator=(const scope&) = delete;

  private:
    deferred_wakes* saved_;
  };

private:
  std::vector<std::function<void()>> kept_;
};

} // namespace diffplane::gateway
