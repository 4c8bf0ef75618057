// Result<T>: an expected-style value-or-error, for operations where failure is normal.
// Exceptions (FatalError) are only for the fatal, and are caught once, in main.
#pragma once
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace kurator {

// Documented process exit codes (README.md).
enum class ExitCode : int { ok = 0, failure = 1, usage = 2, timeout = 3, interrupted = 130 };

struct Error {
  std::string message;  // one line: names the file/field/object and what is wrong
  ExitCode exit = ExitCode::failure;
  std::string hint;  // optional: what the user can do about it
  int http_status = 0;  // set by the HTTP/Kubernetes layers when an HTTP answer caused it

  Error() = default;
  Error(std::string msg, ExitCode code = ExitCode::failure, std::string h = {})
      : message(std::move(msg)), exit(code), hint(std::move(h)) {}
  // Prefixes context: "reading kubeconfig /x: " + message.
  Error& context(const std::string& prefix) {
    message = prefix + ": " + message;
    return *this;
  }
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : m_v(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : m_v(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return m_v.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(m_v); }
  const T& value() const& { return std::get<0>(m_v); }
  T&& value() && { return std::get<0>(std::move(m_v)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const& { return std::get<1>(m_v); }
  Error& error() & { return std::get<1>(m_v); }
  Error&& error() && { return std::get<1>(std::move(m_v)); }
  T value_or(T other) const { return ok() ? value() : std::move(other); }

 private:
  std::variant<T, Error> m_v;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : m_error(std::move(error)), m_ok(false) {}
  bool ok() const { return m_ok; }
  explicit operator bool() const { return m_ok; }
  const Error& error() const& { return m_error; }
  Error& error() & { return m_error; }
  Error&& error() && { return std::move(m_error); }

 private:
  Error m_error;
  bool m_ok = true;
};

using Status = Result<void>;

// Thrown only for conditions the program cannot go on from; main() catches it once.
class FatalError : public std::runtime_error {
 public:
  explicit FatalError(Error e) : std::runtime_error(e.message), m_error(std::move(e)) {}
  const Error& error() const { return m_error; }

 private:
  Error m_error;
};

// Returns early from the enclosing function with the error of a failed Result.
#define KURATOR_TRY(expr)                         \
  do {                                            \
    auto&& kurator_try_r_ = (expr);               \
    if (!kurator_try_r_) return kurator_try_r_.error(); \
  } while (0)

}  // namespace kurator
