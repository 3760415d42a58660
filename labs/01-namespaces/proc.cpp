// Lab 01: a /proc of the container's own, in its own mount namespace.
#include <sys/mount.h>

#include "mydocker/error.hpp"
#include "mydocker/namespaces.hpp"

namespace mydocker::ns {

void remountProc() {
    // Hints:
    // - The new mount namespace starts as a copy of the host's, with the same propagation:
    //   on a systemd host "/" is shared, and a mount here would appear on the host too.
    //   Make everything private first (MS_REC: every mount below "/" as well).
    // - A procfs mounted from inside the new PID namespace shows only that namespace:
    //   CMD is PID 1 and `ps` lists only the container's processes.
    todo("TODO (lab 01): make mounts private, then mount a new /proc");
}

}  // namespace mydocker::ns
