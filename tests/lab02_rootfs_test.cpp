// Lab 02's graded tests: `run --rootfs DIR -- CMD [ARG...]`.
//
// The checklist of the lab, one test each: the rootfs is the container's "/", the host's
// files are out of reach (escape attempts included), /proc/PID/root is the rootfs, no
// mount of the host's root is left in the container; the host's mount table never
// changes; /proc, /dev and /sys are new mounts with safe options, /dev has the right
// device nodes and links; a bad --rootfs is refused with 125 and one error line.
//
// Every container runs on a fresh copy of the busybox image with the probe at /probe
// (LabTest::makeRootfs). The verdicts come from the kernel: stat(2) and readlink(2)
// through /proc/PID/root, /proc/PID/mountinfo, or the probe running as CMD.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "mydocker/file.hpp"
#include "support/devices.hpp"
#include "support/lab_test.hpp"

namespace mydocker::test {
namespace {

/// The links of /dev and where they point.
const std::vector<std::pair<std::string, std::string>> kDevLinks = {
    {"/dev/fd", "/proc/self/fd"},
    {"/dev/stdin", "/proc/self/fd/0"},
    {"/dev/stdout", "/proc/self/fd/1"},
    {"/dev/stderr", "/proc/self/fd/2"},
    {"/dev/ptmx", "pts/ptmx"},
};

/// Where the container's mounts may be: its root and below its /proc, /dev and /sys.
bool isContainerMountPoint(const std::string& path) {
    if (path == "/") return true;
    for (const std::string top : {"/proc", "/dev", "/sys"}) {
        if (path == top || path.rfind(top + "/", 0) == 0) return true;
    }
    return false;
}

/// True when the comma-separated `options` include `option` exactly.
bool hasOption(const std::string& options, const std::string& option) {
    return ("," + options + ",").find("," + option + ",") != std::string::npos;
}

/// Random text, so that a marker cannot be found by chance (or left over from a run).
std::string randomText() {
    std::random_device device;
    return fmt::format("lab02-marker-{:08x}{:08x}", device(), device());
}

class Lab02Rootfs : public LabTest {
protected:
    /// `lab02 run --rootfs <rootfs> -- /probe <probeArgs>`.
    RunResult runProbe(const std::string& rootfs, const std::vector<std::string>& probeArgs) {
        std::vector<std::string> args = {"run", "--rootfs", rootfs, "--", kProbeInRootfs};
        args.insert(args.end(), probeArgs.begin(), probeArgs.end());
        return lab(args);
    }

    /// A path inside the running container, seen from the host through /proc/PID/root.
    static std::string inside(pid_t pid, const std::string& path) {
        return fmt::format("/proc/{}/root{}", pid, path);
    }
};

// A file put at the top of the rootfs is at "/" in the container, and "/" lists the
// rootfs's own entries.
GRADED_TEST_F(Lab02Rootfs, MarkerFileInTheRootfsIsAtSlash, 8) {
    const std::string rootfs = makeRootfs();
    const std::string marker = randomText();
    writeFileAtomic(joinPath(rootfs, "marker"), marker);

    const RunResult read = runProbe(rootfs, {"read", "/marker"});
    ASSERT_EQ(read.exitCode, 0) << "expected the container to read /marker" << read;
    EXPECT_EQ(read.out, marker) << "expected /marker to hold what the rootfs's marker holds" << read;

    const RunResult ls = runProbe(rootfs, {"ls", "/"});
    ASSERT_EQ(ls.exitCode, 0) << ls;
    const auto entries = ls.values("entry");
    for (const std::string name : {"marker", "probe", "bin", "etc"}) {
        EXPECT_NE(std::find(entries.begin(), entries.end(), name), entries.end())
            << "expected \"" << name << "\" in the container's /, as in the rootfs" << ls;
    }
}

// The host's files are not there: a file made on the host for this test, and the lab
// executable itself, do not exist at their host paths inside the container.
GRADED_TEST_F(Lab02Rootfs, HostFilesAreUnreachable, 8) {
    const std::string rootfs = makeRootfs();
    const std::string hostFile = makeTempFile(randomText());
    for (const std::string& path : {hostFile, labBinary(), probeBinary()}) {
        const RunResult r = runProbe(rootfs, {"ls", path});
        ASSERT_EQ(r.exitCode, 0) << r;
        EXPECT_EQ(r.value("exists"), "0")
            << "expected the host's " << path << " not to exist in the container" << r;
    }
}

// The kernel's own view: /proc/PID/root of the container's PID 1 is the rootfs directory
// (same st_dev and st_ino), and so is its working directory.
GRADED_TEST_F(Lab02Rootfs, ProcPidRootIsTheRootfs, 8) {
    const std::string rootfs = makeRootfs();
    auto held = startHeld({}, rootfs);
    ASSERT_TRUE(held.started());

    struct stat expected {};
    ASSERT_EQ(::stat(rootfs.c_str(), &expected), 0) << rootfs;
    const std::string proc = "/proc/" + std::to_string(held.hostPid());
    for (const std::string link : {"root", "cwd"}) {
        struct stat found {};
        const std::string path = proc + "/" + link + "/";
        ASSERT_EQ(::stat(path.c_str(), &found), 0) << path;
        EXPECT_TRUE(found.st_dev == expected.st_dev && found.st_ino == expected.st_ino)
            << "expected " << path << " to be the rootfs " << rootfs << " (dev "
            << major(expected.st_dev) << ":" << minor(expected.st_dev) << ", inode "
            << expected.st_ino << "), found dev " << major(found.st_dev) << ":"
            << minor(found.st_dev) << ", inode " << found.st_ino;
    }
    EXPECT_EQ(held.wait().exitCode, 0);
}

// pivot_root and the detach left nothing of the host's root in the container's mount
// table: no mount of the host's root filesystem at its root, and every mount is the
// container's "/" or below its /proc, /dev or /sys.
GRADED_TEST_F(Lab02Rootfs, NoMountOfTheHostRootRemains, 10) {
    const auto hostRoot = findMount(mountInfo(), "/");
    ASSERT_TRUE(hostRoot.has_value()) << "the host has no mount at /?";
    const std::string rootfs = makeRootfs();
    auto held = startHeld({}, rootfs);
    ASSERT_TRUE(held.started());

    const auto mounts = mountInfo(held.hostPid());
    std::string table;
    for (const auto& m : mounts) table += "\n    " + m.describe();
    for (const auto& m : mounts) {
        EXPECT_FALSE(m.device == hostRoot->device && m.root == hostRoot->root)
            << "expected the host's root (" << hostRoot->describe()
            << ") to be gone from the container, found it at " << m.mountPoint
            << "\n  the container's mounts:" << table;
        EXPECT_TRUE(isContainerMountPoint(m.mountPoint))
            << "expected only /, /proc, /dev, /sys and mounts below them, found " << m.describe()
            << "\n  the container's mounts:" << table;
    }
    EXPECT_EQ(held.wait().exitCode, 0);
}

// The container's mounts stay in its mount namespace: the host's mount table is the
// same before the run, while it runs, and after it.
GRADED_TEST_F(Lab02Rootfs, HostMountTableIsUnchangedBeforeDuringAndAfter, 10) {
    auto table = [] {
        std::vector<std::string> all;
        for (const auto& m : mountInfo()) all.push_back(m.describe());
        return all;
    };
    const std::string rootfs = makeRootfs();
    const auto before = table();
    auto held = startHeld({}, rootfs);
    ASSERT_TRUE(held.started());
    for (const auto& m : newHostMounts()) {
        ADD_FAILURE() << "expected no new mount on the host while the container runs, found "
                      << m.describe();
    }
    EXPECT_EQ(table(), before) << "expected the host's mount table unchanged during the run";
    const RunResult r = held.wait();
    EXPECT_EQ(r.exitCode, 0) << r;
    EXPECT_EQ(table(), before) << "expected the host's mount table unchanged after the run";

    // The same on a host whose mounts are shared (systemd's default): unless the
    // container makes its mounts private first, its bind mount and /proc propagate back,
    // and pivot_root(2) fails with EINVAL.
    const SharedHostRun shared =
        labOnSharedHost({"run", "--rootfs", rootfs, "--", "/probe", "exit", "0"});
    EXPECT_EQ(shared.result.exitCode, 0) << shared.result;
    for (const auto& m : shared.newMounts) {
        ADD_FAILURE() << "on a host with shared mounts, the container's mount propagated to "
                         "the host: " << m.describe() << " (make / private first)";
    }
}

// /proc is a new procfs (nosuid, nodev, noexec), /dev a new tmpfs (nosuid, and not
// nodev: its devices must work), /sys a sysfs mounted read-only.
GRADED_TEST_F(Lab02Rootfs, ProcDevSysHaveSafeMountOptions, 10) {
    const auto host = mountInfo();
    const std::string rootfs = makeRootfs();
    auto held = startHeld({}, rootfs);
    ASSERT_TRUE(held.started());
    const auto mounts = mountInfo(held.hostPid());

    struct Expected {
        std::string mountPoint;
        std::string fsType;
        std::vector<std::string> options;
        std::vector<std::string> forbidden;
        bool mustBeNew;  // not the host's superblock (sysfs shares it within a network namespace)
    };
    const std::vector<Expected> expected = {
        {"/proc", "proc", {"nosuid", "nodev", "noexec"}, {}, true},
        {"/dev", "tmpfs", {"nosuid"}, {"nodev"}, true},
        {"/sys", "sysfs", {"ro", "nosuid", "nodev", "noexec"}, {"rw"}, false},
    };
    for (const auto& want : expected) {
        const auto found = findMount(mounts, want.mountPoint);
        if (!found) {
            ADD_FAILURE() << "expected a mount at " << want.mountPoint << " in the container";
            continue;
        }
        EXPECT_EQ(found->fsType, want.fsType) << found->describe();
        for (const auto& option : want.options) {
            EXPECT_TRUE(hasOption(found->options, option))
                << "expected " << want.mountPoint << " to be mounted " << option << ", found "
                << found->options << " (" << found->describe() << ")";
        }
        for (const auto& option : want.forbidden) {
            EXPECT_FALSE(hasOption(found->options, option))
                << "expected " << want.mountPoint << " not to be mounted " << option
                << ", found " << found->options << " (" << found->describe() << ")";
        }
        const auto hostMount = findMount(host, want.mountPoint);
        if (want.mustBeNew && hostMount) {
            EXPECT_NE(found->device, hostMount->device)
                << "expected a new " << want.fsType << " at " << want.mountPoint
                << ", found the host's: " << found->describe();
        }
    }
    EXPECT_EQ(held.wait().exitCode, 0);
}

// /dev has null, zero, full, random, urandom and tty, character devices with the kernel's
// numbers and mode 0666, and they work: writing to /dev/null succeeds inside.
GRADED_TEST_F(Lab02Rootfs, DeviceNodesHaveTheRightNumbers, 10) {
    const std::string rootfs = makeRootfs();
    auto held = startHeld({}, rootfs);
    ASSERT_TRUE(held.started());
    for (const Device& device : kDevices) {
        const std::string path = inside(held.hostPid(), device.path);
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0) {
            ADD_FAILURE() << "expected " << device.path << " in the container, found nothing at "
                          << path;
            continue;
        }
        EXPECT_TRUE(S_ISCHR(st.st_mode)) << "expected " << device.path << " to be a character device";
        EXPECT_EQ(major(st.st_rdev), device.major) << "major number of " << device.path;
        EXPECT_EQ(minor(st.st_rdev), device.minor) << "minor number of " << device.path;
        EXPECT_EQ(st.st_mode & 07777, kDeviceMode)
            << "expected " << device.path << " to be mode 0666, found " << std::oct
            << (st.st_mode & 07777);
    }
    EXPECT_EQ(held.wait().exitCode, 0);

    const RunResult discard = runProbe(rootfs, {"write", "/dev/null", "discarded"});
    EXPECT_EQ(discard.exitCode, 0) << "expected writing to /dev/null to work inside" << discard;
    const RunResult zero = runProbe(rootfs, {"stat", "/dev/zero"});
    EXPECT_EQ(zero.value("type"), "chr") << zero;
    EXPECT_EQ(zero.value("major") + ":" + zero.value("minor"), "1:5") << zero;
}

// /dev/pts is a devpts of the container's own whose ptmx anyone may open, /dev/shm a
// world-writable tmpfs, and the usual links point into /proc/self and pts.
GRADED_TEST_F(Lab02Rootfs, DevHasPtsShmAndTheUsualLinks, 6) {
    const auto host = mountInfo();
    const std::string rootfs = makeRootfs();
    auto held = startHeld({}, rootfs);
    ASSERT_TRUE(held.started());
    const pid_t pid = held.hostPid();
    const auto mounts = mountInfo(pid);

    const auto pts = findMount(mounts, "/dev/pts");
    ASSERT_TRUE(pts.has_value()) << "expected a mount at /dev/pts";
    EXPECT_EQ(pts->fsType, "devpts") << pts->describe();
    const auto hostPts = findMount(host, "/dev/pts");
    if (hostPts) {
        EXPECT_NE(pts->device, hostPts->device)
            << "expected a new devpts instance, found the host's: " << pts->describe();
    }
    struct stat st {};
    ASSERT_EQ(::stat(inside(pid, "/dev/pts/ptmx").c_str(), &st), 0) << "no /dev/pts/ptmx";
    EXPECT_EQ(st.st_mode & 07777, 0666u) << "expected /dev/pts/ptmx mode 0666 (ptmxmode=0666)";

    const auto shm = findMount(mounts, "/dev/shm");
    ASSERT_TRUE(shm.has_value()) << "expected a mount at /dev/shm";
    EXPECT_EQ(shm->fsType, "tmpfs") << shm->describe();
    ASSERT_EQ(::stat(inside(pid, "/dev/shm").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 01777u) << "expected /dev/shm mode 1777, found " << std::oct
                                          << (st.st_mode & 07777);

    for (const auto& [link, target] : kDevLinks) {
        char buffer[256] = {};
        const std::string path = inside(pid, link);
        const ssize_t n = ::readlink(path.c_str(), buffer, sizeof buffer - 1);
        if (n < 0) {
            ADD_FAILURE() << "expected the link " << link << " -> " << target << ", found none";
            continue;
        }
        EXPECT_EQ(std::string(buffer, static_cast<std::size_t>(n)), target) << "target of " << link;
    }
    EXPECT_EQ(held.wait().exitCode, 0);
}

// Escape attempts from inside fail: the chroot trick (chroot into a subdirectory, climb
// "..", chroot(".")) and /proc/1/root do not reach a file on the host.
GRADED_TEST_F(Lab02Rootfs, EscapeAttemptsDoNotReachTheHost, 10) {
    const std::string rootfs = makeRootfs();
    const std::string hostFile = makeTempFile(randomText());
    const RunResult r = runProbe(rootfs, {"escape", hostFile});
    ASSERT_EQ(r.exitCode, 0) << "expected the probe to try the escapes" << r;
    ASSERT_TRUE(r.has("escaped")) << r;
    EXPECT_EQ(r.value("escaped"), "no")
        << "expected the host's " << hostFile << " to stay unreachable from inside" << r;
}

// A --rootfs that does not exist: 125, one error line, nothing left.
GRADED_TEST_F(Lab02Rootfs, MissingRootfsIsRejectedWith125, 4) {
    const std::string missing = joinPath(makeTempDir(), "no-such-rootfs");
    expectRejected(lab({"run", "--rootfs", missing, "--", "/bin/true"}), "rootfs");
}

// A relative --rootfs (even one that exists, as ".") is refused: 125, one line, nothing left.
GRADED_TEST_F(Lab02Rootfs, RelativeRootfsIsRejectedWith125, 4) {
    for (const std::string relative : {".", "var/tmp", "rootfs"}) {
        SCOPED_TRACE("--rootfs " + relative);
        expectRejected(lab({"run", "--rootfs", relative, "--", "/bin/true"}), "rootfs");
    }
}

// A --rootfs that is a file, not a directory: 125, one line, nothing left.
GRADED_TEST_F(Lab02Rootfs, FileAsRootfsIsRejectedWith125, 4) {
    const std::string file = makeTempFile("not a directory\n");
    expectRejected(lab({"run", "--rootfs", file, "--", "/bin/true"}), "rootfs");
}

// The host's own system is no rootfs: its "/", /etc, /usr, /var, /dev, /proc, /sys (also
// through "/.", ".." or a symlink), what is below /proc and /sys, and pseudo-filesystems
// are refused with 125 and one line, and no proc, dev or sys directory is made in them
// (a runtime that took --rootfs /etc made /etc/proc, /etc/dev and /etc/sys).
// No points yet.
TEST_F(Lab02Rootfs, HostSystemDirectoryAsRootfsIsRejectedWith125) {
    const std::string linkToEtc = joinPath(makeTempDir(), "etc-link");
    ASSERT_EQ(::symlink("/etc", linkToEtc.c_str()), 0);
    const std::vector<std::string> rootfses = {
        "/",    "/etc",  "/etc/.", "/usr/../etc",    linkToEtc,        "/usr",     "/var",
        "/dev", "/proc", "/sys",   "/sys/fs/cgroup", "/proc/self/cwd", "/dev/pts",
    };
    const std::vector<std::string> mountPoints = {"proc", "dev", "sys"};
    for (const std::string& rootfs : rootfses) {
        SCOPED_TRACE("--rootfs " + rootfs);
        std::vector<std::string> absent;
        for (const auto& name : mountPoints) {
            if (!pathExists(joinPath(rootfs, name))) absent.push_back(name);
        }
        expectRejected(lab({"run", "--rootfs", rootfs, "--", "/bin/true"}), "rootfs");
        for (const auto& name : absent) {
            const std::string made = joinPath(rootfs, name);
            if (!pathExists(made)) continue;
            ADD_FAILURE() << "expected nothing made in the host's " << rootfs << ", found " << made;
            removeAll(made);  // never crosses a mount, never follows a link
        }
    }
}

// Lab 01 still works in lab02: without --rootfs the container keeps the host's files and
// gets a /proc of its own. No points: the lab 01 reference does this in the skeleton too.
TEST_F(Lab02Rootfs, WithoutRootfsTheHostRootIsKept) {
    const RunResult r = lab({"run", "--", probeBinary(), "ls", probeBinary()});
    ASSERT_EQ(r.exitCode, 0) << r;
    EXPECT_EQ(r.value("exists"), "1") << "expected the host's files without --rootfs" << r;
}

// A CMD the rootfs does not have gives 127 (it is looked up in the rootfs, not the host).
// No points: it tests lab 01's exec through lab 02's root.
TEST_F(Lab02Rootfs, CommandMissingFromTheRootfsGives127) {
    const std::string rootfs = makeRootfs();
    const RunResult r = lab({"run", "--rootfs", rootfs, "--", probeBinary(), "pid"});
    EXPECT_EQ(r.exitCode, 127) << "expected the host's probe path not to exist in the rootfs" << r;
}

// runc's CVE-2024-21626 class: the caller left fd 3 open on the host's "/" (as
// `bash -c 'exec 3</; exec lab02 run --rootfs R -- ...'` does). CMD must not have it, so
// neither /proc/self/fd/3/<host file>, fchdir(3) nor chroot(/proc/self/fd/3) reaches the
// host: a file made for the test, nor the host's /etc/shadow. No points: lab 01 grades
// the closing of inherited descriptors.
TEST_F(Lab02Rootfs, HostRootOpenInTheCallerIsOutOfReach) {
    const std::string rootfs = makeRootfs();
    const std::string hostFile = makeTempFile(randomText());
    LaunchOptions hostRootAt3;
    hostRootAt3.inheritedFds = {{3, "/"}};
    const RunResult r = lab(
        {"run", "--rootfs", rootfs, "--", kProbeInRootfs, "fd-escape", "3", hostFile}, hostRootAt3);
    ASSERT_EQ(r.exitCode, 0) << "expected the probe to try the escapes" << r;
    EXPECT_EQ(r.value("fd"), "closed") << "expected no fd 3 in the container" << r;
    EXPECT_EQ(r.value("escaped"), "no")
        << "expected the host's " << hostFile << " out of reach through fd 3" << r;

    // stat, not read: a failing test must not print the host's /etc/shadow.
    const RunResult shadow = lab(
        {"run", "--rootfs", rootfs, "--", kProbeInRootfs, "stat", "/proc/self/fd/3/etc/shadow"},
        hostRootAt3);
    EXPECT_NE(shadow.exitCode, 0) << "expected the host's /etc/shadow out of reach" << shadow;
    EXPECT_FALSE(shadow.has("type")) << "expected the host's /etc/shadow out of reach" << shadow;
}

}  // namespace
}  // namespace mydocker::test
