// The entry point of every lab executable (labNN).
#include "cli.hpp"
#include "mydocker/signals.hpp"

int main(int argc, char** argv) {
    // Before anything else: from here on SIGINT, SIGTERM and SIGHUP wait until the
    // runtime reads them, so none can kill it half-way through a step and leave a
    // cgroup or a record behind; SIGPIPE cannot kill it at all.
    mydocker::signals::blockAtStart();
    return mydocker::driver::runCli(argc, argv);
}
