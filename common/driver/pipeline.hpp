// The run pipeline: carries out one RunConfig, from the first step to the teardown.
// Part of the driver, compiled per lab: lab N runs the steps of labs 1..N.
#pragma once

#include <string>
#include <vector>

#include "mydocker/config.hpp"
#include "mydocker/rootfs.hpp"
#include "mydocker/unique_fd.hpp"

namespace mydocker::driver {

/// What a detached container's monitor holds (lab 10): the read ends of the container's
/// stdout and stderr (their write ends are the monitor's fds 1 and 2 until CMD runs, so
/// the child inherits them), and the report pipe to the command line tool.
struct DetachedIo {
    UniqueFd out;     ///< the container's stdout
    UniqueFd err;     ///< the container's stderr
    UniqueFd report;  ///< "0" once CMD runs; an error goes up as an exception instead
};

/// Runs a container and returns docker run's exit code for it: in the foreground, or, with
/// `detached`, in the monitor process (lab 10), which reports over `detached->report` once
/// CMD runs, then logs its output until it ends.
/// @throws Error (bad state, a failed step, Interrupted) once everything done is undone
int runContainer(const RunConfig& config, DetachedIo* detached = nullptr);

/// The environment CMD starts with: what `docker run` gives a container by default (PATH,
/// HOSTNAME, HOME), each replaced by the config's variable of the same name (an image's
/// PATH wins, then -e), then the config's others. Nothing of the runtime's own.
std::vector<std::string> containerEnvironment(const RunConfig& config);

/// What the child is handed besides its config and root, as fds and paths.
struct ChildIo {
    /// The report pipe's write end: a failure goes up it as "<exit code> <message>".
    int report = -1;
    /// Lab 10's -t: a unix socket; the child opens a pty of its own devpts, sends the
    /// master over it and makes the peer its terminal. -1 for none.
    int console = -1;
    /// Lab 10: the go pipe's read end. The child waits on it before it hardens and execs
    /// CMD (a byte is the go; EOF: the runtime gave up on the start). -1 before lab 10.
    int go = -1;
    /// Lab 10: the files the child writes "0" into, first thing, to join its cgroup (in
    /// earlier labs the runtime puts it there before the release).
    std::vector<std::string> cgroupFiles;
};

/// The child's side, in the new namespaces, once released: its steps, then exec CMD.
/// `root` is the container's root filesystem (lab 02: --rootfs; lab 05: the image's
/// layers), empty for the host's. Returns (the exit code) only if a step or the exec
/// failed, after sending the error over `io.report`.
int childMain(const RunConfig& config, const rootfs::RootfsSpec& root, const ChildIo& io);

}  // namespace mydocker::driver
