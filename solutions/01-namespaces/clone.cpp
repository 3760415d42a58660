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

// BEGIN SOLUTION
namespace {

/// Stack of the cloned child until it execs: plenty for the setup it does.
constexpr std::size_t kChildStackSize = 1024 * 1024;

/// What the cloned child needs; it lives in the parent's memory, which the child
/// sees as its own copy (no CLONE_VM).
struct ChildArgs {
    const std::function<int()>* body;
    int syncRead;
    int syncWrite;
};

/// Child side: wait for the parent's go, then run the body.
int childEntry(void* raw) {
    const auto* args = static_cast<ChildArgs*>(raw);
    // Die with the runtime, before waiting for anything: a container whose runtime was
    // killed must not live on unmanaged (and never start CMD). Set before the read
    // below, so there is no moment when the parent could die unnoticed: if it died
    // before this line, its end of the pipe is closed and the read sees EOF.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return 125;
    // Close our copy of the write end, or the read below could never see EOF.
    ::close(args->syncWrite);
    char go = 0;
    ssize_t n;
    do {
        n = ::read(args->syncRead, &go, 1);
    } while (n < 0 && errno == EINTR);
    // EOF without a byte: the parent gave up on us (or died). Run nothing.
    if (n != 1) return 125;
    ::close(args->syncRead);
    return (*args->body)();
}

}  // namespace
// END SOLUTION

int containerCloneFlags() {
    // BEGIN SOLUTION: todo("TODO (lab 01): choose the clone(2) namespace flags");
    // One CLONE_NEW* flag per namespace, each isolating one thing: the hostname (UTS), the
    // process numbers (PID: CMD is PID 1 and sees only its descendants), the mounts (NS:
    // a fresh /proc stays inside), SysV IPC and POSIX message queues (IPC).
    return CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC;
    // END SOLUTION
}

Child spawnChild(int flags, const std::function<int()>& body) {
    // BEGIN SOLUTION: todo("TODO (lab 01): clone(2) the child, held on a sync pipe", flags, body);
    // The child runs `body` only once the parent has written a byte to the pipe (the
    // parent has work to do first: its cgroup, lab 03), and nothing if it reads EOF. It
    // sets PR_SET_PDEATHSIG (prctl(2)) before it blocks on the pipe, to die with the runtime.
    Pipe sync = makePipe();
    ChildArgs args{&body, sync.read.get(), sync.write.get()};

    // clone(2) runs the child on a stack we provide. The stack grows down: pass its top.
    void* stack = ::mmap(nullptr, kChildStackSize, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) throw SysError("mmap", "child stack");
    char* stackTop = static_cast<char*>(stack) + kChildStackSize;

    // SIGCHLD: the parent is told when the child ends and can waitpid(2) for it.
    const pid_t pid = ::clone(childEntry, stackTop, flags | SIGCHLD, &args);
    const int cloneErrno = errno;
    // Without CLONE_VM the child has its own copy of the stack: ours can go now.
    ::munmap(stack, kChildStackSize);
    if (pid < 0) throw SysError(cloneErrno, "clone", "new namespaces");

    return Child{pid, std::move(sync.write)};
    // END SOLUTION
}

void release(Child& child) {
    // BEGIN SOLUTION: todo("TODO (lab 01): release the child through the sync pipe", child);
    const char go = 1;
    if (::write(child.syncWrite.get(), &go, 1) != 1) {
        throw SysError("write", "sync pipe of pid " + std::to_string(child.pid));
    }
    child.syncWrite.reset();
    // END SOLUTION
}

}  // namespace mydocker::ns
