/// @file
/// @brief FakeCgroupTree: the fixture of the cgroup unit tests (labs 03 and 04).
///
/// A temporary directory stands in for /sys/fs/cgroup, so both the v1 and the v2
/// implementation run on any host (youki's way). A fake tree is plain directories and
/// files: what the kernel would do on its own (fill a new cgroup directory with its
/// files) a test does by hand with kernelDir(), and says so.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <map>
#include <string>

#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "support/points.hpp"

namespace mydocker::test {

/// The cgroup every fake-tree test makes, below its root(s).
inline constexpr const char* kFakeCgroupPath = "mydocker/fake-container";

/// A temporary directory standing in for /sys/fs/cgroup, removed at the end of the test.
class FakeCgroupTree : public ::testing::Test {
protected:
    /// Makes the empty fake tree under /tmp.
    void SetUp() override {
        std::string pattern = "/tmp/fake-cgroup-tree.XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) throw SysError("mkdtemp", pattern);
        base_ = pattern;
    }
    /// Removes it, whatever the test left in it.
    void TearDown() override {
        if (!base_.empty()) removeAll(base_);
    }

    /// A path in the fake tree.
    std::string at(const std::string& relative) const { return joinPath(base_, relative); }

    /// Makes directory `dir` (relative) holding `files` (name -> content), as the kernel
    /// shows a cgroup directory.
    void kernelDir(const std::string& dir, const std::map<std::string, std::string>& files = {}) {
        makeDirs(at(dir));
        for (const auto& [name, content] : files) writeFileAtomic(joinPath(at(dir), name), content);
    }

    /// The contents of a fake file (relative), without its trailing newline.
    std::string contents(const std::string& relative) const { return readLine(at(relative)); }

    std::string base_;  ///< the fake /sys/fs/cgroup
};

}  // namespace mydocker::test
