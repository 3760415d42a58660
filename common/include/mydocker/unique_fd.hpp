/// @file
/// @brief UniqueFd: a move-only owner of one file descriptor.
#pragma once

#include <unistd.h>

#include <utility>

namespace mydocker {

/// Owns a file descriptor and closes it when destroyed. Move-only.
class UniqueFd {
public:
    UniqueFd() = default;
    /// Takes ownership of `fd` (may be -1).
    explicit UniqueFd(int fd) noexcept : fd_(fd) {}
    /// Takes over `other`'s descriptor; `other` is left empty.
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    /// Closes the held descriptor, then takes over `other`'s.
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) reset(other.release());
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    /// The descriptor, still owned.
    int get() const noexcept { return fd_; }
    /// True when a descriptor is held.
    explicit operator bool() const noexcept { return fd_ >= 0; }
    /// Gives up ownership and returns the descriptor.
    int release() noexcept { return std::exchange(fd_, -1); }
    /// Closes the held descriptor (if any) and takes `fd`.
    void reset(int fd = -1) noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

/// Both ends of a pipe(2).
struct Pipe {
    UniqueFd read;   ///< the read end
    UniqueFd write;  ///< the write end
};

/// Creates a pipe with O_CLOEXEC on both ends. Throws SysError.
Pipe makePipe();

}  // namespace mydocker
