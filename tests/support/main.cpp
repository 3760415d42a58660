// The main of every labNN_test: GoogleTest's, plus what the harness needs process-wide.
//
//   labNN_test [GoogleTest's flags]   runs the suite (as root: the tests make namespaces)
//   labNN_test --list-points          prints each graded test's points and the total, runs
//                                     nothing (support/points.hpp)
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>

#include "support/kernel_state.hpp"
#include "support/lab_test.hpp"
#include "support/points.hpp"

int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], mydocker::test::kListPointsFlag) == 0) {
            mydocker::test::listPoints(std::cout);
            return std::cout.flush() ? 0 : 1;
        }
    }
    ::testing::InitGoogleMock(&argc, argv);
    mydocker::test::recordPointsOfEachTest();

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
