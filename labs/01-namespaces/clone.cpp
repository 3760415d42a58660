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
    todo("TODO (lab 01): choose the clone(2) namespace flags");
}

Child spawnChild(int flags, const std::function<int()>& body) {
    todo("TODO (lab 01): clone(2) the child, held on a sync pipe", flags, body);
}

void release(Child& child) {
    todo("TODO (lab 01): release the child through the sync pipe", child);
}

}  // namespace mydocker::ns
