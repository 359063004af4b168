#include "metrics/registry.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace diffplane::metrics {

histogram::histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i)
    buckets_[i].store(0);
}

void histogram::observe(double value) {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i])
    ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  // The sum is kept in millionths so that it can be an atomic integer.
  sum_micros_.fetch_add(
      static_cast<std::uint64_t>(std::llround(std::max(value, 0.0) * 1e6)),
      std::memory_order_relaxed);
}

std::vector<std::uint64_t> histogram::cumulative() const {
  std::vector<std::uint64_t> result(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    result[i] = running;
  }
  return result;
}

double histogram::sum() const {
  return static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
}

std::uint64_t histogram::count() const {
  return count_.load(std::memory_order_relaxed);
}

std::vector<double> latency_buckets() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,    0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30};
}

std::vector<double> size_buckets() {
  return {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096};
}

std::string format_labels(const labels& l) {
  if (l.empty())
    return {};
  std::string out = "{";
  for (std::size_t i = 0; i < l.size(); ++i) {
    if (i > 0)
      out += ',';
    out += l[i].first + "=\"";
    for (char c : l[i].second) {
      if (c == '\\' || c == '"')
        out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

registry::family& registry::family_of(const std::string& name, kind type,
                                      const std::string& help) {
  auto [it, fresh] = families_.try_emplace(name);
  if (fresh) {
    it->second.type = type;
    it->second.help = help;
  } else if (it->second.type != type) {
    throw std::logic_error("metric " + name + " registered with two types");
  }
  return it->second;
}

counter& registry::get_counter(const std::string& name, const std::string& help,
                               const labels& l) {
  std::lock_guard guard{mutex_};
  auto& slot = family_of(name, kind::counter, help).counters[format_labels(l)];
  if (!slot)
    slot = std::make_unique<counter>();
  return *slot;
}

gauge& registry::get_gauge(const std::string& name, const std::string& help,
                           const labels& l) {
  std::lock_guard guard{mutex_};
  auto& slot = family_of(name, kind::gauge, help).gauges[format_labels(l)];
  if (!slot)
    slot = std::make_unique<gauge>();
  return *slot;
}

histogram& registry::get_histogram(const std::string& name, const std::string& help,
                                   std::vector<double> bounds, const labels& l) {
  std::lock_guard guard{mutex_};
  auto& slot = family_of(name, kind::histogram, help).histograms[format_labels(l)];
  if (!slot)
    slot = std::make_unique<histogram>(std::move(bounds));
  return *slot;
}

void registry::add_callback_gauge(const std::string& name, const std::string& help,
                                  std::function<double()> read) {
  std::lock_guard guard{mutex_};
  family_of(name, kind::callback, help).callback = std::move(read);
}

namespace {

std::string number(double value) {
  if (std::isinf(value))
    return value > 0 ? "+Inf" : "-Inf";
  std::ostringstream out;
  out.precision(12);
  out << value;
  return out.str();
}

/// Joins a family's label block with one more label (for histogram buckets).
std::string with_label(const std::string& block, const std::string& extra) {
  if (block.empty())
    return "{" + extra + "}";
  return block.substr(0, block.size() - 1) + "," + extra + "}";
}

} // namespace

std::string registry::render() const {
  std::lock_guard guard{mutex_};
  std::string out;
  for (const auto& [name, f] : families_) {
    const char* type = f.type == kind::counter     ? "counter"
                       : f.type == kind::histogram ? "histogram"
                                                   : "gauge";
    out += "# HELP " + name + " " + f.help + "\n";
    out += "# TYPE " + name + " " + type + "\n";
    for (const auto& [block, c] : f.counters)
      out += name + block + " " + std::to_string(c->value()) + "\n";
    for (const auto& [block, g] : f.gauges)
      out += name + block + " " + std::to_string(g->value()) + "\n";
    if (f.callback)
      out += name + " " + number(f.callback()) + "\n";
    for (const auto& [block, h] : f.histograms) {
      auto counts = h->cumulative();
      for (std::size_t i = 0; i < h->bounds().size(); ++i)
        out += name + "_bucket" +
               with_label(block, "le=\"" + number(h->bounds()[i]) + "\"") + " " +
               std::to_string(counts[i]) + "\n";
      out += name + "_bucket" + with_label(block, "le=\"+Inf\"") + " " +
             std::to_string(counts.back()) + "\n";
      out += name + "_sum" + block + " " + number(h->sum()) + "\n";
      out += name + "_count" + block + " " + std::to_string(h->count()) + "\n";
    }
  }
  return out;
}

registry& global() {
  static registry instance;
  return instance;
}

} // namespace diffplane::metrics
