#pragma once

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>

namespace diffplane::bench {

// Every coroutine, socket and timer runs on a strand of the one io_context, named by its
// concrete type: Asio's type-erased default executor cost 15.7 % of loadgen's CPU in the
// saturated cycle, CPU the server under test then lacked (docs/BENCHMARKS.md).

using executor = boost::asio::strand<boost::asio::io_context::executor_type>;

/// A coroutine on a strand.
template <class T> using task = boost::asio::awaitable<T, executor>;

/// The completion token that suspends a `task` until an operation finishes.
inline constexpr boost::asio::use_awaitable_t<executor> use_task{};

using timer =
    boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                      boost::asio::wait_traits<std::chrono::steady_clock>,
                                      executor>;

using tcp_stream = boost::beast::basic_stream<boost::asio::ip::tcp, executor>;

} // namespace diffplane::bench
