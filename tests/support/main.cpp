// The main of every labNN_test: GoogleTest's, plus what the harness needs process-wide.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <exception>

#include "support/kernel_state.hpp"
#include "support/lab_test.hpp"

int main(int argc, char** argv) {
    ::testing::InitGoogleMock(&argc, argv);

    // A runtime that dies leaves its container orphaned; as a subreaper this process
    // inherits such orphans instead of init, so the leak check sees (and kills) them.
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) std::perror("prctl(PR_SET_CHILD_SUBREAPER)");

    // One line saying what is being tested, for logs and for the grader's output.
    try {
        // Pin the host's /proc now, before any container could mount over it.
        mydocker::test::hostProc();
        std::fprintf(stderr, "[ harness  ] testing %s (cgroups: %s)\n",
                     mydocker::test::labBinary().c_str(),
                     mydocker::test::toString(mydocker::test::cgroupMode()).c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "[ harness  ] %s\n", e.what());
    }
    return RUN_ALL_TESTS();
}
