// The run pipeline itself (ungraded: it is given code, not a lab's lesson): the steps of
// a container's start happen in DESIGN.md's order, each undo runs, last first, and the
// Teardown that holds the undos can be moved (lab 10 hands it to a monitor process).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/state.hpp"
#include "mydocker/teardown.hpp"
#include "support/lab_test.hpp"

namespace mydocker::test {
namespace {

/// The lines of `text` that start with `prefix`, without it.
std::vector<std::string> linesAfter(const std::vector<std::string>& lines,
                                    const std::string& prefix) {
    std::vector<std::string> found;
    for (const auto& line : lines) {
        if (line.rfind(prefix, 0) == 0) found.push_back(line.substr(prefix.size()));
    }
    return found;
}

class Lab04Pipeline : public LabTest {};

// `--log-level debug` shows the start as DESIGN.md lists it, and the teardown as its
// mirror image: the undos of the same steps, last first.
TEST_F(Lab04Pipeline, StepsRunInOrderAndUndosInReverse) {
    const RunResult r = lab(
        {"--log-level", "debug", "run", "-m", "64m", "--rootfs", makeRootfs(), "--", "/bin/true"});
    ASSERT_EQ(r.exitCode, 0) << r;
    const auto steps = linesAfter(r.errLines(), "lab04: debug: step: ");
    const std::vector<std::string> expected = {
        "record the state",     "create the cgroup",
        "limit memory",         "clone the child in new namespaces",
        "put it in the cgroup", "release the child"};
    EXPECT_EQ(steps, expected) << r;
    const auto undos = linesAfter(r.errLines(), "lab04: debug: undo: ");
    const std::vector<std::string> undone = {"clone the child in new namespaces",
                                             "create the cgroup", "record the state"};
    EXPECT_EQ(undos, undone) << r;
}

// A container that ran keeps its record, readable by the state's own reader, with the
// process's start time beside its pid.
TEST_F(Lab04Pipeline, TheRecordOfAFinishedContainerReadsBack) {
    const RunResult r = lab({"run", "--", "/bin/sh", "-c", "exit 7"});
    ASSERT_EQ(r.exitCode, 7) << r;
    const auto ids = listDir(joinPath(root(), "containers"));
    ASSERT_EQ(ids.size(), 1u);
    const ContainerState state = loadState(root(), ids.front());
    EXPECT_EQ(state.status, "exited");
    EXPECT_EQ(state.exitCode, 7);
    EXPECT_GT(state.pid, 0);
    EXPECT_GT(state.pidStartTime, 0u);
    EXPECT_FALSE(state.startedAt.empty());
    EXPECT_FALSE(state.finishedAt.empty());
}

// A runtime killed with SIGKILL cannot undo anything; its container dies with it (the
// child's PR_SET_PDEATHSIG), and the next command of the runtime, whatever it is, sweeps
// up: the cgroup goes, and the record says the container exited, killed.
TEST_F(Lab04Pipeline, WhatAKilledRuntimeLeftIsSweptByTheNextCommand) {
    auto held = startHeld({"-m", "64m", "--pids-limit", "20"}, makeRootfs());
    ASSERT_TRUE(held.started());
    const auto ids = listDir(joinPath(root(), "containers"));
    ASSERT_EQ(ids.size(), 1u);
    ASSERT_EQ(::kill(held.runtimePid(), SIGKILL), 0);
    const RunResult killed = held.wait();
    EXPECT_EQ(killed.exitCode, 128 + SIGKILL) << killed;
    const auto left = mydockerCgroupDirs();
    EXPECT_TRUE(std::any_of(left.begin(), left.end(), [&](const std::string& dir) {
        return dir.find(ids.front()) != std::string::npos;
    })) << "expected the killed runtime to leave its cgroup (nothing could remove it)";

    const RunResult next = lab({"run", "--", "/bin/true"});
    ASSERT_EQ(next.exitCode, 0) << next;
    for (const std::string& dir : mydockerCgroupDirs()) {
        EXPECT_EQ(dir.find(ids.front()), std::string::npos) << "expected swept: " << dir;
    }
    const ContainerState state = loadState(root(), ids.front());
    EXPECT_EQ(state.status, "exited");
    EXPECT_EQ(state.exitCode, 128 + SIGKILL);
}

// A state file that is not what the runtime wrote is refused in one clear line.
TEST(Lab04State, CorruptStateFilesAreRefusedWithTheirName) {
    for (const std::string text :
         {"", "{", "[]", "{\"version\": 1}", "{\"version\": 99, \"id\": \"x\"}", "nonsense"}) {
        try {
            fromJson(text, "/r/containers/x/state.json");
            ADD_FAILURE() << "expected \"" << text << "\" to be refused";
        } catch (const Error& e) {
            const std::string what = e.what();
            EXPECT_NE(what.find("corrupt state file /r/containers/x/state.json ("),
                      std::string::npos)
                << what;
            EXPECT_EQ(what.find('\n'), std::string::npos) << what;
        }
    }
    ContainerState state;
    state.id = "abc";
    state.command = {"sh", "-c", "echo \"hi\"\n"};
    state.oomKilled = true;
    EXPECT_EQ(fromJson(toJson(state)), state);
}

// The undos run last first, each once; a failing one does not stop the others; a moved
// Teardown runs in its new owner only.
TEST(Lab04Teardown, UndosRunLastFirstOnceAndSurviveAFailureAndAMove) {
    std::vector<int> order;
    {
        Teardown first;
        first.add("one", [&] { order.push_back(1); });
        first.add("fails", [] { throw std::runtime_error("on purpose"); });
        first.add("three", [&] { order.push_back(3); });
        Teardown second(std::move(first));
        EXPECT_EQ(first.size(), 0u);  // NOLINT(bugprone-use-after-move): checking the move
        EXPECT_EQ(second.run(), 1);   // one undo failed
        EXPECT_EQ(second.run(), 0);   // nothing left to run twice
    }
    EXPECT_EQ(order, (std::vector<int>{3, 1}));
}

}  // namespace
}  // namespace mydocker::test
