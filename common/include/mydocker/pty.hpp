/// @file
/// @brief Lab 10's pseudo-terminals (`run -t`, `exec -t`): given code, the relay's plumbing.
///
/// A container's terminal is a pty of the container's own devpts (lab 02 mounts one with
/// `newinstance`), as runc makes it: its peer is the container's fds 0, 1 and 2 and its
/// controlling terminal, so `tty` inside names `/dev/pts/0` and job control works. The
/// runtime holds the master and relays it to the caller's terminal, put in raw mode so
/// that every key (Ctrl-C too) reaches the container's line discipline, not the caller's:
///
///     caller's terminal (raw) <--> runtime <--> pty master | pty peer = CMD's 0, 1, 2
///
/// The window size follows the caller's: copied at start and on each SIGWINCH.
#pragma once

#include <sys/types.h>
#include <termios.h>

#include <functional>

#include "mydocker/unique_fd.hpp"

namespace mydocker::pty {

/// A new pty: the master and its peer, both close-on-exec.
struct Pty {
    UniqueFd master;  ///< the runtime's side
    UniqueFd peer;    ///< the container's side: its fds 0, 1 and 2
};

/// Opens a new pty from the devpts instance at /dev/pts of the calling process's root
/// (the container's, once it is in its mount namespace and root). Refuses anything at
/// /dev/pts/ptmx but the pty multiplexer: the container may have made that path.
/// @throws SysError if it cannot
Pty open();

/// In the process about to exec CMD: a new session whose controlling terminal is `peer`,
/// of the caller's window size (copyWindowSize()), and `peer` as fds 0, 1 and 2.
/// @throws SysError if setsid(2), TIOCSCTTY or dup2(2) fails
void becomeTerminal(int peer);

/// Sends `fd` over the unix socket `socket` (SCM_RIGHTS).
/// @throws SysError if sendmsg(2) fails
void sendFd(int socket, int fd);

/// Receives an fd sent by sendFd(); an empty UniqueFd if the sender closed the socket
/// without sending one.
/// @throws SysError if recvmsg(2) fails
UniqueFd receiveFd(int socket);

/// The caller's terminal (fd 0) in raw mode while this object lives, as it was after:
/// nothing happens if fd 0 is not a terminal.
class RawMode {
  public:
    RawMode();
    RawMode(const RawMode&) = delete;
    RawMode& operator=(const RawMode&) = delete;
    ~RawMode();

  private:
    bool saved_ = false;
    termios original_{};
};

/// Copies the caller's window size (of fd 0, else of fd 1, if a terminal) to `pty`, a
/// master or a peer.
void copyWindowSize(int pty);

/// Relays until `child` is reaped and returns its wait status: what the pty's master
/// gives goes to fd 1; with `input`, what fd 0 gives goes to the master. SIGWINCH resizes
/// the pty (copyWindowSize()); every other signal read from `signalFd` but SIGCHLD is
/// handed to `onSignal` (the sig-proxy of the caller).
/// @throws SysError if poll(2) or waitpid(2) fails
int relay(pid_t child, int master, bool input, const UniqueFd& signalFd,
          const std::function<void(int)>& onSignal);

}  // namespace mydocker::pty
