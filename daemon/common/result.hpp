#pragma once
/// Errors as values: Result<T, E> holds either a value or an error, like C++23's std::expected.
#include <cassert>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace backfilld::common {

/// A domain error: a stable machine-readable code and a message for people.
struct Error {
  std::string code;
  std::string message;
};

/// Wraps an error so that it converts into any Result<T, E>.
template <class E>
struct Unexpected {
  E error;
};
template <class E>
Unexpected(E) -> Unexpected<E>;

/// Builds a common::Error result: `return fail("bad_manifest", "containers[0].name is missing")`.
inline Unexpected<Error> fail(std::string code, std::string message) {
  return Unexpected<Error>{Error{std::move(code), std::move(message)}};
}

/// Either a T or an E. Result<void, E> holds nothing on success.
template <class T, class E = Error>
class [[nodiscard]] Result {
 public:
  Result() requires std::is_void_v<T> : state_(std::in_place_index<0>) {}
  template <class U = T>
  requires(!std::is_void_v<T> && std::is_constructible_v<T, U&&> &&
           !std::is_same_v<std::remove_cvref_t<U>, Result>) Result(U&& value)
      : state_(std::in_place_index<0>, std::forward<U>(value)) {}
  template <class G>
  Result(Unexpected<G> e) : state_(std::in_place_index<1>, std::move(e.error)) {}

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  template <class U = T>
  requires(!std::is_void_v<U>) U& value() & {
    assert(ok());
    return std::get<0>(state_);
  }
  template <class U = T>
  requires(!std::is_void_v<U>) const U& value() const& {
    assert(ok());
    return std::get<0>(state_);
  }
  template <class U = T>
  requires(!std::is_void_v<U>) U && value() && {
    assert(ok());
    return std::get<0>(std::move(state_));
  }
  template <class U = T>
  requires(!std::is_void_v<U>) U* operator->() { return &value(); }
  template <class U = T>
  requires(!std::is_void_v<U>) const U* operator->() const { return &value(); }
  template <class U = T>
  requires(!std::is_void_v<U>) U& operator*() & { return value(); }
  template <class U = T>
  requires(!std::is_void_v<U>) const U& operator*() const& { return value(); }

  E& error() & {
    assert(!ok());
    return std::get<1>(state_);
  }
  const E& error() const& {
    assert(!ok());
    return std::get<1>(state_);
  }

 private:
  using Stored = std::conditional_t<std::is_void_v<T>, std::monostate, T>;
  std::variant<Stored, E> state_;
};

}  // namespace backfilld::common
