/// @file
/// @brief Teardown: the undos of a container's start, run last first.
///
/// Every step of the run pipeline that creates something (a directory, a cgroup, a
/// process, later a link or a rule) registers its undo here as soon as it is done
/// (runc's `defer`, youki's cleanup-on-failure). Whoever ends the container runs them:
///
/// @code
/// Teardown teardown;
/// makeCgroup();
/// teardown.add("create the cgroup", [&] { cgroup->destroy(); });
/// ...                       // a failure here: ~Teardown undoes what was done
/// teardown.run();           // CMD ended: every undo, last first
/// @endcode
///
/// The undos are held by this move-only object, not by the stack frame of the function
/// that did the steps, so the teardown can be handed over: a foreground `run` executes
/// it when CMD ends; a detached one (lab 10) moves it into the container's monitor
/// process (a fork of the runtime, which has the same memory), which executes it when
/// CMD ends, long after the command line tool has exited.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace mydocker {

/// A list of named undo actions, executed in reverse order of registration. Move-only.
class Teardown {
  public:
    Teardown() = default;
    /// Takes over `other`'s undos; `other` is left empty.
    Teardown(Teardown&& other) noexcept : undos_(std::exchange(other.undos_, {})) {}
    /// Runs this object's own undos first, then takes over `other`'s.
    Teardown& operator=(Teardown&& other) noexcept;
    Teardown(const Teardown&) = delete;
    Teardown& operator=(const Teardown&) = delete;
    /// Runs whatever is still registered: what was done before a failure is undone.
    ~Teardown();

    /// Registers the undo of the step `name`, which has just been done.
    void add(std::string name, std::function<void()> undo);

    /// Runs every undo, the last registered first, and forgets them. An undo that fails
    /// is reported (one error line naming the step) and the others still run.
    /// @return the number of undos that failed
    int run() noexcept;

    /// The number of undos still registered.
    std::size_t size() const noexcept { return undos_.size(); }

  private:
    std::vector<std::pair<std::string, std::function<void()>>> undos_;
};

}  // namespace mydocker
