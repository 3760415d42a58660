// Lab 01: clone(2) a child into new namespaces, held at a sync pipe until released.
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "mydocker/error.hpp"
#include "mydocker/namespaces.hpp"

namespace mydocker::ns {

int containerCloneFlags() {
    // Hint: One CLONE_NEW* flag per namespace, each isolating one thing: the hostname (UTS), the
    // process numbers (PID: CMD is PID 1 and sees only its descendants), the mounts (NS:
    // a fresh /proc stays inside), SysV IPC and POSIX message queues (IPC).
    todo("TODO (lab 01): choose the clone(2) namespace flags");
}

Child spawnChild(int flags, const std::function<int()>& body) {
    // Hints:
    // - The child runs `body` only once the parent has written a byte to the pipe (the
    //   parent has work to do first: its cgroup, lab 03), and nothing if it reads EOF. It
    //   sets PR_SET_PDEATHSIG (prctl(2)) before it blocks on the pipe, to die with the runtime.
    // - clone(2) runs the child on a stack we provide. The stack grows down: pass its top.
    // - SIGCHLD: the parent is told when the child ends and can waitpid(2) for it.
    // - Without CLONE_VM the child has its own copy of the stack: ours can go now.
    todo("TODO (lab 01): clone(2) the child, held on a sync pipe", flags, body);
}

void release(Child& child) {
    todo("TODO (lab 01): release the child through the sync pipe", child);
}

}  // namespace mydocker::ns
