/// @file
/// @brief ScopeGuard: run an undo action on scope exit unless dismissed.
///
/// The runtime registers the undo of every step as it does it (runc's `defer`):
/// @code
/// cgroup.create();
/// ScopeGuard removeCgroup([&] { cgroup.destroy(); });
/// ...                       // anything here may throw
/// removeCgroup.dismiss();   // the whole start succeeded: keep the cgroup
/// @endcode
#pragma once

#include <exception>
#include <functional>
#include <utility>

namespace mydocker {

/// Calls its action when destroyed, unless dismiss() was called. Move-only.
class ScopeGuard {
public:
    /// Registers `undo` to run at scope exit.
    explicit ScopeGuard(std::function<void()> undo) : undo_(std::move(undo)) {}
    /// Takes over `other`'s action; `other` will do nothing.
    ScopeGuard(ScopeGuard&& other) noexcept : undo_(std::exchange(other.undo_, nullptr)) {}
    ScopeGuard(const ScopeGuard&) = delete;
    ScopeGuard& operator=(const ScopeGuard&) = delete;
    ScopeGuard& operator=(ScopeGuard&&) = delete;
    /// Runs the action; an exception from it is logged, never propagated.
    ~ScopeGuard();

    /// Keeps what was done: the action will not run.
    void dismiss() noexcept { undo_ = nullptr; }

private:
    std::function<void()> undo_;
};

}  // namespace mydocker
