// Result<T>: a value or an error carrying errno and a human context line.
// Used everywhere below the CLI and JSON edges, where exceptions are not wanted
// (and between clone and exec, where they are forbidden).
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

namespace nsbuild::base {

struct Error {
  int errnum = 0;       // 0 when the failure is not a syscall's
  std::string context;  // what was being done, with the path or argument

  // "context: strerror(errnum)" or just the context.
  std::string Message() const;
};

// Captures errno at the call site, so it must be built before anything else
// that could clobber errno runs.
inline Error ErrnoError(std::string context) { return Error{errno, std::move(context)}; }
inline Error PlainError(std::string context) { return Error{0, std::move(context)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit on purpose
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(v_); }
  Error&& take_error() { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }
  Error&& take_error() { return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

// Prefixes an error with where it was seen, keeping errno.
inline Error Wrap(Error e, const std::string& where) {
  e.context = where + ": " + e.context;
  return e;
}

}  // namespace nsbuild::base

// Propagates a failed Result from the current function.
#define NSB_TRY(expr)                                     \
  do {                                                    \
    auto nsb_try_r_ = (expr);                             \
    if (!nsb_try_r_.ok()) return nsb_try_r_.take_error(); \
  } while (0)

#define NSB_CONCAT_INNER_(a, b) a##b
#define NSB_CONCAT_(a, b) NSB_CONCAT_INNER_(a, b)
#define NSB_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.take_error();          \
  lhs = std::move(tmp).value()
// Binds the value of a Result or propagates its error.
#define NSB_ASSIGN_OR_RETURN(lhs, expr) \
  NSB_ASSIGN_OR_RETURN_IMPL_(NSB_CONCAT_(nsb_r_, __LINE__), lhs, expr)
