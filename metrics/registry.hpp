#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

// Process-wide counters, gauges and histograms for the operator's GET /metrics, in the
// Prometheus text format. Recording is a relaxed atomic add, so any thread may record on
// a hot path; only registering a new label set takes a lock.
namespace diffplane::metrics {

/// Label pairs, e.g. {{"route", "/jobs"}, {"status", "2xx"}}.
using labels = std::vector<std::pair<std::string, std::string>>;

class counter {
public:
  void add(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<std::uint64_t> value_{0};
};

class gauge {
public:
  void add(std::int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  void set(std::int64_t n) { value_.store(n, std::memory_order_relaxed); }
  std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<std::int64_t> value_{0};
};

/// Fixed buckets, chosen per metric; observations in the metric's own unit.
class histogram {
public:
  explicit histogram(std::vector<double> bounds);
  void observe(double value);

  const std::vector<double>& bounds() const { return bounds_; }
  /// Cumulative counts per bound, then +Inf; the sum; the count.
  std::vector<std::uint64_t> cumulative() const;
  double sum() const;
  std::uint64_t count() const;

private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_micros_{0};
};

/// Buckets for latencies in seconds, 50 us to 30 s.
std::vector<double> latency_buckets();
/// Buckets for sizes (batch items), 1 to 4096.
std::vector<double> size_buckets();

/// Owns every metric; hands out stable references.
class registry {
public:
  counter& get_counter(const std::string& name, const std::string& help,
                       const labels& l = {});
  gauge& get_gauge(const std::string& name, const std::string& help,
                   const labels& l = {});
  histogram& get_histogram(const std::string& name, const std::string& help,
                           std::vector<double> bounds, const labels& l = {});
  /// A gauge read at exposition time (e.g. actors alive).
  void add_callback_gauge(const std::string& name, const std::string& help,
                          std::function<double()> read);

  /// Everything in the Prometheus text exposition format 0.0.4.
  std::string render() const;

private:
  enum class kind { counter, gauge, histogram, callback };
  struct family {
    kind type;
    std::string help;
    std::map<std::string, std::unique_ptr<counter>> counters;
    std::map<std::string, std::unique_ptr<gauge>> gauges;
    std::map<std::string, std::unique_ptr<histogram>> histograms;
    std::function<double()> callback;
  };
  family& family_of(const std::string& name, kind type, const std::string& help);

  mutable std::mutex mutex_;
  std::map<std::string, family> families_;
};

/// The process's registry.
registry& global();

/// `{a="x",b="y"}` with values escaped; empty for no labels.
std::string format_labels(const labels& l);

} // namespace diffplane::metrics
