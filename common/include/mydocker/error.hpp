/// @file
/// @brief The kit's error types: one message, a chain of context, printed as one line.
///
/// Every failing syscall becomes a SysError naming the call and its argument; every
/// layer on the way up may add what it was doing (withContext), and `main` prints
/// the whole chain once: `lab02: error: preparing the root: pivot_root(/x): Invalid argument`.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include <stdexcept>

namespace mydocker {

/// Base of every error the runtime reports. what() is the whole chain, outermost first.
class Error : public std::exception {
public:
    /// An error whose innermost message is `message`, without context yet.
    explicit Error(std::string message) : message_(std::move(message)) { rebuild(); }

    /// Adds what the caller was doing when the error happened (outermost last added).
    Error& addContext(std::string context);

    /// The one-line message: "context: context: message".
    const char* what() const noexcept override { return line_.c_str(); }

    /// The innermost message, without context.
    const std::string& message() const noexcept { return message_; }

    /// The exit code `main` returns for this error (125: the runtime failed).
    virtual int exitCode() const noexcept { return 125; }

private:
    void rebuild();
    std::string message_;
    std::vector<std::string> context_;  // innermost first
    std::string line_;
};

/// A failed system call: captures errno at construction.
/// Printed as `call(arg): strerror (ENAME)`, e.g. `mount(/proc): Operation not permitted (EPERM)`.
class SysError : public Error {
public:
    /// @param call the syscall or library function that failed
    /// @param arg  its most telling argument (a path, a pid), or empty
    explicit SysError(std::string_view call, std::string_view arg = {});
    /// Same, with an explicit errno (for calls that return it instead of setting it).
    SysError(int err, std::string_view call, std::string_view arg = {});

    /// The errno the call failed with.
    int code() const noexcept { return errno_; }

private:
    int errno_;
};

/// Invalid input from the user: a bad flag value, a missing directory. Exit 125.
class UsageError : public Error {
public:
    /// Same constructor as Error: the message names the input and what is wrong with it.
    using Error::Error;
};

/// CMD could not be executed: exit 127 when not found, 126 otherwise (as `docker run`).
class ExecError : public Error {
public:
    /// @param exitCode 126 or 127
    /// @param message  what could not be executed, and why
    ExecError(int exitCode, std::string message) : Error(std::move(message)), code_(exitCode) {}
    int exitCode() const noexcept override { return code_; }

private:
    int code_;
};

/// Raised by the skeleton where the student has not written the code yet.
class TodoError : public Error {
public:
    /// Same constructor as Error: the message names the TODO.
    using Error::Error;
};

/// Marks unfinished student code: throws TodoError with `what`, which starts with
/// "TODO (lab NN): " (`tools/skeleton check` enforces it), e.g.
/// `todo("TODO (lab 01): choose the clone(2) namespace flags")`. `main` prints it after
/// the program's name and the step it stopped, as every error: `lab01: error: clone the
/// child in new namespaces: TODO (lab 01): choose the clone(2) namespace flags`.
/// The extra arguments are the parameters the missing code will use; naming them
/// here keeps the skeleton free of unused-parameter warnings.
template <class... Unused>
[[noreturn]] void todo(std::string_view what, const Unused&... /*unused*/) {
    throw TodoError(std::string(what));
}

/// The symbolic name of an errno value ("ENOENT"), or its number if unknown.
std::string errnoName(int err);

/// The longest value quoted() shows whole, in bytes; a longer one is cut in the middle.
inline constexpr std::size_t kMaxQuotedLength = 64;

/// A value the user gave, as an error line shows it: in double quotes, with a quote and a
/// backslash escaped (`\"`, `\\`), every control character escaped (`\n`, `\t`, `\x1b`)
/// and every byte that is not UTF-8 escaped (`\xff`), so the line stays one readable line
/// whatever was typed. A value longer than kMaxQuotedLength bytes keeps its start and its
/// end around `...`, followed by its length: `"aaaa...aaaa" (100000 bytes)`.
/// Use it wherever an error echoes input: `invalid --rootfs {} (...)`.
std::string quoted(std::string_view value);

/// quoted() of a std::string. These exact matches keep `quoted(text)` on a std::string
/// from calling std::quoted (`<iomanip>`) instead, which argument-dependent lookup also finds.
inline std::string quoted(const std::string& value) { return quoted(std::string_view(value)); }
/// quoted() of a modifiable std::string (see the const one).
inline std::string quoted(std::string& value) { return quoted(std::string_view(value)); }
/// quoted() of a C string (a literal would otherwise match two overloads).
inline std::string quoted(const char* value) { return quoted(std::string_view(value)); }

/// `text` made safe to print as one line: control characters and bytes that are not UTF-8
/// escaped as quoted() does; quotes and backslashes kept as they are. log::write() passes
/// every message through it, so that one message is always exactly one line.
std::string printable(std::string_view text);

/// Runs `body`; if it throws an Error, adds `context` to it and rethrows.
template <class Body>
decltype(auto) withContext(std::string_view context, Body&& body) {
    try {
        return std::forward<Body>(body)();
    } catch (Error& e) {
        e.addContext(std::string(context));
        throw;
    }
}

}  // namespace mydocker
