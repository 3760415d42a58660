// The recursive removal of common/ (removeAll), which the runtime and the harness share:
// it removes a tree without ever leaving it. No symlink is followed, no mount is
// entered, and a tree with anything mounted in it is refused before anything is removed,
// naming the mount: the data of a volume or of an image layer must never go with a
// container's directory.
//
// Not graded: removeAll is given code, not the lab's. These tests mount a tmpfs and bind
// mounts in their own temporary directories, and unmount them before they end.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/scope_guard.hpp"
#include "support/lab_test.hpp"

namespace mydocker::test {
namespace {

class Lab02SafeRemove : public LabTest {
protected:
    /// Writes `content` to a new file at `path`.
    static void makeFile(const std::string& path, const std::string& content = "data\n") {
        writeFileAtomic(path, content);
    }

    /// Mounts a fresh tmpfs on `dir`; the guard unmounts it (lazily) whatever happens.
    static ScopeGuard mountTmpfs(const std::string& dir) {
        if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=1m") != 0) {
            throw SysError("mount tmpfs", dir);
        }
        return ScopeGuard([dir] { ::umount2(dir.c_str(), MNT_DETACH); });
    }

    /// Bind-mounts `source` on `target`; the guard unmounts it whatever happens.
    static ScopeGuard bindMount(const std::string& source, const std::string& target) {
        if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0) {
            throw SysError("mount --bind", target);
        }
        return ScopeGuard([target] { ::umount2(target.c_str(), MNT_DETACH); });
    }

    /// What removeAll(path) threw, or "" if it did not throw.
    static std::string removeError(const std::string& path) {
        try {
            removeAll(path);
        } catch (const Error& e) {
            return e.what();
        }
        return "";
    }
};

// A plain tree of directories, files, a FIFO and symlinks (one dangling) goes entirely.
TEST_F(Lab02SafeRemove, PlainTreeIsRemoved) {
    const std::string tree = joinPath(makeTempDir(), "tree");
    makeDirs(tree + "/a/b/c/d");
    makeDirs(tree + "/empty");
    makeFile(tree + "/top");
    makeFile(tree + "/a/b/c/d/deep");
    ASSERT_EQ(::mkfifo((tree + "/a/fifo").c_str(), 0600), 0);
    ASSERT_EQ(::symlink("b", (tree + "/a/link-to-b").c_str()), 0);
    ASSERT_EQ(::symlink("/nonexistent/nowhere", (tree + "/dangling").c_str()), 0);
    // A directory without any permission: root removes it all the same.
    ASSERT_EQ(::chmod((tree + "/a/b").c_str(), 0), 0);

    removeAll(tree + "/");  // a trailing slash names the same directory
    EXPECT_FALSE(pathExists(tree)) << "expected " << tree << " removed";
}

// A single file, and a path that is not there at all (or whose parent is not there, or is
// a file): nothing to do is not an error.
TEST_F(Lab02SafeRemove, FileAndMissingPathsAreFine) {
    const std::string dir = makeTempDir();
    makeFile(dir + "/file");
    removeAll(dir + "/file");
    EXPECT_FALSE(pathExists(dir + "/file"));

    EXPECT_NO_THROW(removeAll(dir + "/missing"));
    EXPECT_NO_THROW(removeAll(dir + "/missing/below"));
    makeFile(dir + "/plain");
    EXPECT_NO_THROW(removeAll(dir + "/plain/below"));
    EXPECT_TRUE(pathExists(dir + "/plain"));
}

// A symlink in the tree to a directory outside it is removed as a link: the outside
// directory and its file are untouched. The same when the path given is itself a link.
TEST_F(Lab02SafeRemove, SymlinkToOutsideIsNotFollowed) {
    const std::string outside = makeTempDir();
    makeFile(outside + "/precious");
    const std::string tree = joinPath(makeTempDir(), "tree");
    makeDirs(tree + "/sub");
    ASSERT_EQ(::symlink(outside.c_str(), (tree + "/sub/out").c_str()), 0);
    ASSERT_EQ(::symlink((outside + "/precious").c_str(), (tree + "/file-out").c_str()), 0);

    removeAll(tree);
    EXPECT_FALSE(pathExists(tree));
    EXPECT_TRUE(pathExists(outside + "/precious")) << "expected the link's target untouched";

    const std::string link = joinPath(makeTempDir(), "link");
    ASSERT_EQ(::symlink(outside.c_str(), link.c_str()), 0);
    removeAll(link);
    EXPECT_FALSE(pathExists(link)) << "expected the link itself removed";
    EXPECT_TRUE(pathExists(outside + "/precious")) << "expected the link's target untouched";
}

// A tmpfs mounted deep in the tree: the removal is refused with an error that names the
// mount point, before anything is removed. The tmpfs's file survives, and so does the
// rest of the tree.
TEST_F(Lab02SafeRemove, TreeWithMountInsideIsRefused) {
    const std::string tree = joinPath(makeTempDir(), "tree");
    const std::string mountPoint = tree + "/volumes/data";
    makeDirs(mountPoint);
    makeFile(tree + "/sibling");
    ScopeGuard unmount = mountTmpfs(mountPoint);
    makeFile(mountPoint + "/user-data");

    const std::string error = removeError(tree);
    EXPECT_NE(error.find(mountPoint), std::string::npos)
        << "expected an error naming the mount point " << mountPoint << ", got: " << error;
    EXPECT_TRUE(pathExists(mountPoint + "/user-data")) << "expected the tmpfs's file to survive";
    EXPECT_TRUE(pathExists(tree + "/sibling")) << "expected nothing removed before the refusal";

    // Once unmounted, the tree goes.
    ASSERT_EQ(::umount2(mountPoint.c_str(), 0), 0) << "umount2(" << mountPoint << ")";
    unmount.dismiss();
    removeAll(tree);
    EXPECT_FALSE(pathExists(tree));
}

// A mount of the same filesystem (a bind mount: same device, so a device check alone
// would miss it) on a directory, on a file, or on the path itself: refused, naming it.
TEST_F(Lab02SafeRemove, BindMountsInTheTreeAreRefused) {
    const std::string outside = makeTempDir();
    makeFile(outside + "/precious");
    const std::string tree = joinPath(makeTempDir(), "tree");
    makeDirs(tree + "/bound");
    makeFile(tree + "/file");

    {
        ScopeGuard unmount = bindMount(outside, tree + "/bound");
        const std::string error = removeError(tree);
        EXPECT_NE(error.find(tree + "/bound"), std::string::npos)
            << "expected an error naming " << tree << "/bound, got: " << error;
    }
    {
        ScopeGuard unmount = bindMount(outside + "/precious", tree + "/file");
        const std::string error = removeError(tree);
        EXPECT_NE(error.find(tree + "/file"), std::string::npos)
            << "expected an error naming " << tree << "/file, got: " << error;
    }
    {
        ScopeGuard unmount = bindMount(outside, tree);
        const std::string error = removeError(tree);
        EXPECT_NE(error.find(tree), std::string::npos)
            << "expected an error naming " << tree << ", got: " << error;
    }
    EXPECT_TRUE(pathExists(outside + "/precious")) << "expected the bound directory untouched";
    removeAll(tree);
    EXPECT_FALSE(pathExists(tree));
}

// "/", "." and ".." are never removed (as rm(1) refuses them).
TEST_F(Lab02SafeRemove, RootAndDotsAreRefused) {
    for (const std::string path : {"/", "//", ".", "..", "/tmp/.."}) {
        EXPECT_THROW(removeAll(path), Error) << "removeAll(\"" << path << "\")";
    }
}

}  // namespace
}  // namespace mydocker::test
