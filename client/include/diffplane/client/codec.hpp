#pragma once

#include <diffplane/protocol.hpp>

#include <msgpack.hpp>

#include <cxxabi.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>

// Typed msgpack helpers: C++ values to the SDK's payloads and back. Numbers, strings,
// bool, vectors, maps, optionals and structs with a msgpack adaptor (MSGPACK_DEFINE_MAP)
// work; a payload that does not decode is an error value, never a crash.
namespace diffplane::client {

using bytes = protocol::bytes;

/// A call that did not resolve: the function rejected (name and message of its error,
/// as the SDK serializes it), the payload did not decode, or the server refused it.
class call_error : public std::runtime_error {
public:
  call_error(std::string name, const std::string& message)
      : std::runtime_error(message), name_(std::move(name)) {}
  /// The error's name: the rejecting function's error name, "DecodeError",
  /// "ClientClosed", or the server's error code.
  const std::string& name() const { return name_; }

private:
  std::string name_;
};

namespace detail {

/// T's readable name, for decode errors.
template <class T> std::string type_name() {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name{
      abi::__cxa_demangle(typeid(T).name(), nullptr, nullptr, &status), std::free};
  return status == 0 && name ? std::string{name.get()} : std::string{typeid(T).name()};
}

} // namespace detail

/// The msgpack array of `args`, as a function's arguments travel.
template <class... Args> bytes pack_args(const Args&... args) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer{buffer};
  packer.pack_array(sizeof...(Args));
  (packer.pack(args), ...);
  return bytes(buffer.data(), buffer.data() + buffer.size());
}

/// One value as msgpack.
template <class T> bytes pack_value(const T& value) {
  msgpack::sbuffer buffer;
  msgpack::pack(buffer, value);
  return bytes(buffer.data(), buffer.data() + buffer.size());
}

/// Decodes `payload` as a T; throws call_error "DecodeError" naming the type.
template <class T> T unpack_value(const bytes& payload) {
  try {
    auto handle = protocol::parse_value(payload.data(), payload.size());
    return handle.get().as<T>();
  } catch (const std::exception& e) {
    throw call_error("DecodeError", "the payload does not decode as " +
                                        detail::type_name<T>() + ": " + e.what());
  }
}

/// A rejection's payload as the SDK serializes errors: a map with name and message.
bytes rejection_payload(const std::string& name, const std::string& message);

/// The error a rejection's payload describes (a generic one when it is not a map).
call_error error_of_rejection(const bytes& payload);

/// A served function: its argument array in, its result's msgpack out; throws to
/// reject (call_error keeps its name, other exceptions are named "Error").
using handler = std::function<bytes(const msgpack::object& args)>;

namespace detail {

template <class F> struct signature : signature<decltype(&F::operator())> {};
template <class C, class R, class... A> struct signature<R (C::*)(A...) const> {
  using result = R;
  using args = std::tuple<std::decay_t<A>...>;
};
template <class C, class R, class... A> struct signature<R (C::*)(A...)> {
  using result = R;
  using args = std::tuple<std::decay_t<A>...>;
};
template <class R, class... A> struct signature<R (*)(A...)> {
  using result = R;
  using args = std::tuple<std::decay_t<A>...>;
};

template <class T> struct is_optional : std::false_type {};
template <class T> struct is_optional<std::optional<T>> : std::true_type {};

template <class Tuple, std::size_t... I>
Tuple convert_args(const msgpack::object& args, std::index_sequence<I...>) {
  if (args.type != msgpack::type::ARRAY)
    throw call_error("DecodeError", "the arguments are not a msgpack array");
  Tuple out;
  auto read = [&](auto& slot, std::size_t index) {
    using T = std::decay_t<decltype(slot)>;
    if (index >= args.via.array.size) {
      if constexpr (is_optional<T>::value)
        return;
      throw call_error("DecodeError",
                       "argument " + std::to_string(index) + " is missing");
    }
    try {
      args.via.array.ptr[index].convert(slot);
    } catch (const std::exception& e) {
      throw call_error("DecodeError", "argument " + std::to_string(index) +
                                          " does not decode as " + type_name<T>() + ": " +
                                          e.what());
    }
  };
  (read(std::get<I>(out), I), ...);
  return out;
}

} // namespace detail

/// Wraps a typed function (lambda, function pointer) as a handler: its arguments are
/// decoded from the call's array, its result encoded.
template <class F> handler make_handler(F f) {
  using sig = detail::signature<std::decay_t<F>>;
  using args_tuple = typename sig::args;
  return [f = std::move(f)](const msgpack::object& args) -> bytes {
    auto values = detail::convert_args<args_tuple>(
        args, std::make_index_sequence<std::tuple_size_v<args_tuple>>{});
    if constexpr (std::is_void_v<typename sig::result>) {
      std::apply(f, std::move(values));
      return pack_value(msgpack::type::nil_t{});
    } else {
      return pack_value(std::apply(f, std::move(values)));
    }
  };
}

} // namespace diffplane::client
