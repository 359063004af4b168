#include "bench/loadgen/report.hpp"

#include "bench/loadgen/baseline_lane.hpp"

#include <cstdarg>
#include <cstdio>
#include <string>

namespace diffplane::bench {

namespace {

double per_second(std::uint64_t count, const loadgen_options& options) {
  return static_cast<double>(count) / options.duration_seconds;
}

double ratio(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

// printf keeps the columns aligned with far less noise than iostream manipulators; the
// attribute keeps the compiler checking every format against its arguments.
__attribute__((format(printf, 2, 3))) void line(std::ostream& out, const char* format,
                                                ...) {
  char buffer[512];
  std::va_list args;
  va_start(args, format);
  std::vsnprintf(buffer, sizeof buffer, format, args);
  va_end(args);
  out << buffer << '\n';
}

void latency_row(std::ostream& out, const char* name, const latency_histogram& h) {
  line(out, "  %-24s %9.3f %9.3f %9.3f %9.3f %10llu", name, h.percentile_us(50) / 1000,
       h.percentile_us(90) / 1000, h.percentile_us(99) / 1000,
       static_cast<double>(h.max_us()) / 1000,
       static_cast<unsigned long long>(h.count()));
}

nlohmann::json latency_json(const latency_histogram& h) {
  return {{"p50", h.percentile_us(50) / 1000},
          {"p90", h.percentile_us(90) / 1000},
          {"p99", h.percentile_us(99) / 1000},
          {"max", static_cast<double>(h.max_us()) / 1000},
          {"mean", h.mean_us() / 1000},
          {"samples", h.count()}};
}

std::string mode(const loadgen_options& options) {
  if (!options.open_loop())
    return "closed loop";
  char rate[64];
  std::snprintf(rate, sizeof rate, "open loop at %g jobs/s", options.rate);
  return rate;
}

/// The endpoints as given, comma-separated (one: just its URL, as before).
std::string endpoint_list(const loadgen_options& options) {
  std::string list;
  for (const auto& endpoint : options.endpoints)
    list += (list.empty() ? "" : ",") + endpoint.url;
  return list;
}

nlohmann::json endpoint_urls(const loadgen_options& options) {
  auto urls = nlohmann::json::array();
  for (const auto& endpoint : options.endpoints)
    urls.push_back(endpoint.url);
  return urls;
}

void count_row(std::ostream& out, const char* name, std::uint64_t count,
               const loadgen_options& options) {
  line(out, "  %-24s %12llu %12.1f", name, static_cast<unsigned long long>(count),
       per_second(count, options));
}

void latency_header(std::ostream& out) {
  out << '\n';
  line(out, "  %-24s %9s %9s %9s %9s %10s", "latency (ms)", "p50", "p90", "p99", "max",
       "samples");
}

/// HTTP requests answered in the window: in the cycle, every create, result post, worker
/// poll and status poll; in the baseline, every request (recorded as creates).
std::uint64_t http_requests(const loadgen_options& options, const metrics_snapshot& f) {
  if (options.baseline)
    return f.jobs_created;
  return f.jobs_created + f.results_posted + f.worker_polls + f.status_polls;
}

void print_cost_and_errors(std::ostream& out, const metrics_snapshot& f) {
  line(out, "  loadgen itself: %.1f s CPU in %.1f s (%.0f%% of one core)",
       f.loadgen_cpu_seconds, f.run_seconds,
       f.run_seconds > 0 ? 100 * f.loadgen_cpu_seconds / f.run_seconds : 0.0);
  out << '\n';
  if (f.errors.empty()) {
    out << "  errors: none\n";
    return;
  }
  out << "  errors (whole run, warm-up included):\n";
  for (const auto& [what, tally] : f.errors) {
    line(out, "  %10llu  %s", static_cast<unsigned long long>(tally.count), what.c_str());
    if (!tally.first_detail.empty())
      line(out, "              first: %s", tally.first_detail.c_str());
  }
}

void print_baseline_table(std::ostream& out, const loadgen_options& options,
                          const metrics_snapshot& f) {
  line(out, "diffplane loadgen baseline  %s  (a trivial server answering at once)",
       endpoint_list(options).c_str());
  line(out, "  %d connections, one request at a time each (the cycle's with these flags), "
       "threads %d",
       cycle_connections(options), options.threads);
  line(out, "  measured %.1f s after %.1f s warm-up", options.duration_seconds,
       options.warmup_seconds);
  out << '\n';
  line(out, "  %-24s %12s %12s", "", "count", "per s");
  count_row(out, "http requests", http_requests(options, f), options);
  latency_header(out);
  latency_row(out, "request (-> 2xx)", f.create);
  print_cost_and_errors(out, f);
}

} // namespace

void print_table(std::ostream& out, const loadgen_options& options,
                 const metrics_snapshot& f) {
  if (options.baseline) {
    print_baseline_table(out, options, f);
    return;
  }
  line(out, "diffplane loadgen  %s  service %s", endpoint_list(options).c_str(),
       options.service.c_str());
  // Only when spread, so that single-endpoint output stays as it was.
  if (options.endpoints.size() > 1 || options.clusters > 1)
    line(out,
         "  spread over %zu endpoints x %d clusters (round-robin per caller and worker)",
         options.endpoints.size(), options.clusters);
  line(out,
       "  callers %d x in-flight %d (%s, %d create conns), workers %d x limit %d "
       "(%d result conns), threads %d",
       options.callers, options.in_flight, mode(options).c_str(),
       options.create_connections, options.workers, options.limit,
       options.result_connections, options.threads);
  line(out, "  measured %.1f s after %.1f s warm-up", options.duration_seconds,
       options.warmup_seconds);
  out << '\n';
  line(out, "  %-24s %12s %12s", "", "count", "per s");
  count_row(out, "jobs completed", f.jobs_completed, options);
  count_row(out, "jobs created", f.jobs_created, options);
  count_row(out, "results posted", f.results_posted, options);
  line(out, "  %-24s %12llu %12.1f   %.1f jobs/poll, %llu empty", "worker polls",
       static_cast<unsigned long long>(f.worker_polls),
       per_second(f.worker_polls, options), ratio(f.jobs_received, f.worker_polls),
       static_cast<unsigned long long>(f.worker_polls_empty));
  line(out, "  %-24s %12llu %12.1f   %.1f ids/poll", "batch status polls",
       static_cast<unsigned long long>(f.status_polls),
       per_second(f.status_polls, options), ratio(f.status_ids_sent, f.status_polls));
  line(out, "  %-24s %12llu", "jobs failed",
       static_cast<unsigned long long>(f.jobs_failed));
  count_row(out, "http requests", http_requests(options, f), options);
  latency_header(out);
  latency_row(out, "create -> result", f.create_to_result);
  latency_row(out, "dispatch (201 -> worker)", f.dispatch);
  latency_row(out, "create (-> 201)", f.create);
  latency_row(out, "result post (-> 204)", f.result_post);
  if (f.dispatched_before_ack > 0)
    line(out,
         "  (%llu jobs reached a worker before their 201 reached the caller: counted 0)",
         static_cast<unsigned long long>(f.dispatched_before_ack));
  print_cost_and_errors(out, f);
}

nlohmann::json to_json(const loadgen_options& options, const metrics_snapshot& f) {
  nlohmann::json errors = nlohmann::json::object();
  for (const auto& [what, tally] : f.errors)
    errors[what] = {{"count", tally.count}, {"first", tally.first_detail}};
  return {{"config",
           {{"endpoint", options.endpoints.front().url},
            {"endpoints", endpoint_urls(options)},
            {"clusters", options.clusters},
            {"service", options.service},
            {"callers", options.callers},
            {"workers", options.workers},
            {"limit", options.limit},
            {"in_flight", options.in_flight},
            {"create_connections", options.create_connections},
            {"result_connections", options.result_connections},
            {"rate", options.rate},
            {"duration_s", options.duration_seconds},
            {"warmup_s", options.warmup_seconds},
            {"threads", options.threads},
            {"baseline", options.baseline},
            {"connections", options.baseline ? cycle_connections(options) : 0}}},
          {"http_requests", http_requests(options, f)},
          {"http_requests_per_second", per_second(http_requests(options, f), options)},
          {"jobs_completed", f.jobs_completed},
          {"jobs_per_second", per_second(f.jobs_completed, options)},
          {"jobs_created", f.jobs_created},
          {"jobs_failed", f.jobs_failed},
          {"results_posted", f.results_posted},
          {"worker_polls", f.worker_polls},
          {"worker_polls_empty", f.worker_polls_empty},
          {"jobs_received", f.jobs_received},
          {"status_polls", f.status_polls},
          {"status_ids_sent", f.status_ids_sent},
          {"dispatched_before_ack", f.dispatched_before_ack},
          {"latency_ms",
           {{"create_to_result", latency_json(f.create_to_result)},
            {"dispatch", latency_json(f.dispatch)},
            {"create", latency_json(f.create)},
            {"result_post", latency_json(f.result_post)}}},
          {"loadgen_cpu_s", f.loadgen_cpu_seconds},
          {"run_s", f.run_seconds},
          {"errors", errors}};
}

} // namespace diffplane::bench
