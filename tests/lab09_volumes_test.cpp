// Lab 09's graded tests: `run -v HOSTDIR|NAME:CTRDIR[:ro|:rw]`, `volume ls`, `volume rm`.
//
// The checklist of the lab, one test each: the volume is a mount at its target in the
// container's own mount table; `:ro` is read-only for the volume and for a mount below
// it (EROFS, and `ro` in mountinfo); a target through a symlink of the image lands inside
// the rootfs, never on the host; the host's mount table never changes; the host's data is
// whole after the container ends, even when its runtime was killed; a named volume keeps
// its data, and gets the root's content on first use; a missing host directory is made;
// bad input is refused with 125, leaving nothing.
//
// Every container runs on a fresh copy of the busybox image with the probe at /probe
// (LabTest::makeRootfs), with `--net none` (a network is not the lesson here). The
// verdicts come from the kernel: /proc/PID/mountinfo, stat(2) through /proc/PID/root,
// the errno of a write the probe makes, and the files on the host.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "lab05_support.hpp"
#include "mydocker/file.hpp"
#include "support/lab_test.hpp"

namespace mydocker::test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

/// Random text, so that a marker cannot be found by chance (or left over from a run).
std::string randomText() {
    std::random_device device;
    return fmt::format("lab09-marker-{:08x}{:08x}", device(), device());
}

/// True when the comma-separated `options` include `option` exactly.
bool hasOption(const std::string& options, const std::string& option) {
    return ("," + options + ",").find("," + option + ",") != std::string::npos;
}

/// The mount table as text, for failure messages.
std::string describeMounts(const std::vector<MountInfo>& mounts) {
    std::string table;
    for (const auto& m : mounts) table += "\n    " + m.describe();
    return table;
}

/// The host's mounts at or below `dir`.
std::vector<MountInfo> hostMountsUnder(const std::string& dir) {
    std::vector<MountInfo> found;
    for (const auto& m : mountInfo()) {
        if (m.mountPoint == dir || m.mountPoint.rfind(dir + "/", 0) == 0) found.push_back(m);
    }
    return found;
}

/// True when `a` and `b` name the same inode.
bool sameInode(const std::string& a, const std::string& b) {
    struct stat sa {};
    struct stat sb {};
    return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/// A tmpfs the test mounts on the host (below a volume's source), unmounted when the
/// test ends, even after a failure: the harness's leak check would report it.
class TestTmpfs {
  public:
    explicit TestTmpfs(std::string dir) : dir_(std::move(dir)) {
        mounted_ = ::mount("lab09-test", dir_.c_str(), "tmpfs", 0, "size=1m,mode=0755") == 0;
    }
    TestTmpfs(const TestTmpfs&) = delete;
    TestTmpfs& operator=(const TestTmpfs&) = delete;
    ~TestTmpfs() {
        if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
    }
    bool mounted() const { return mounted_; }

  private:
    std::string dir_;
    bool mounted_ = false;
};

class Lab09Volumes : public LabTest {
  protected:
    /// `lab09 run --net none --rootfs <rootfs> <flags> -- /probe <probeArgs>`.
    RunResult runProbe(const std::string& rootfs, const std::vector<std::string>& flags,
                       const std::vector<std::string>& probeArgs) {
        std::vector<std::string> args = {"run", "--net", "none", "--rootfs", rootfs};
        args.insert(args.end(), flags.begin(), flags.end());
        args.push_back("--");
        args.push_back(kProbeInRootfs);
        args.insert(args.end(), probeArgs.begin(), probeArgs.end());
        return lab(args);
    }

    /// A container held alive on `rootfs` with `flags` (and `--net none`).
    HeldContainer hold(const std::string& rootfs, std::vector<std::string> flags) {
        flags.insert(flags.begin(), {"--net", "none"});
        return startHeld(std::move(flags), rootfs);
    }

    /// A path inside the running container, seen from the host through /proc/PID/root.
    static std::string inside(pid_t pid, const std::string& path) {
        return fmt::format("/proc/{}/root{}", pid, path);
    }

    /// The names `volume ls` lists (its second column).
    std::vector<std::string> listedVolumes() {
        const RunResult r = lab({"volume", "ls"});
        EXPECT_EQ(r.exitCode, 0) << r;
        std::vector<std::string> names;
        const auto lines = r.outLines();
        for (std::size_t i = 1; i < lines.size(); ++i) {
            const auto space = lines[i].find_last_of(' ');
            names.push_back(space == std::string::npos ? lines[i] : lines[i].substr(space + 1));
        }
        return names;
    }
};

// A host directory given with -v is a mount at the target in the container's own mount
// table: /proc/PID/root/data is the host directory's inode, the container reads the
// host's file there and what it writes there is on the host.
GRADED_TEST_F(Lab09Volumes, BindIsAtTheTargetInTheContainer, 10) {
    const std::string rootfs = makeRootfs();
    const std::string dir = makeTempDir();
    const std::string marker = randomText();
    writeFileAtomic(joinPath(dir, "marker"), marker);

    auto held = hold(rootfs, {"-v", dir + ":/data"});
    ASSERT_TRUE(held.started());
    const auto mounts = mountInfo(held.hostPid());
    const auto data = findMount(mounts, "/data");
    EXPECT_TRUE(data.has_value()) << "expected a mount at /data in the container"
                                  << "\n  the container's mounts:" << describeMounts(mounts);
    if (data) {
        EXPECT_TRUE(hasOption(data->options, "rw")) << data->describe();
    }
    EXPECT_TRUE(sameInode(inside(held.hostPid(), "/data"), dir))
        << "expected the container's /data to be the host's " << dir;
    EXPECT_EQ(held.wait().exitCode, 0);

    const RunResult read = runProbe(rootfs, {"-v", dir + ":/data"}, {"read", "/data/marker"});
    EXPECT_EQ(read.exitCode, 0) << read;
    EXPECT_EQ(read.out, marker) << "expected the container to read the host's file" << read;
    const std::string text = randomText();
    const RunResult write =
        runProbe(rootfs, {"--volume", dir + ":/data:rw"}, {"write", "/data/written", text});
    EXPECT_EQ(write.exitCode, 0) << write;
    ASSERT_TRUE(pathExists(joinPath(dir, "written")))
        << "expected what the container wrote in /data on the host" << write;
    EXPECT_EQ(readFile(joinPath(dir, "written")), text);
}

// `:ro` makes the volume read-only and every mount below it too (a tmpfs the test mounts
// in the host directory): `ro` in both mounts' options, EROFS on a write to either. A
// bind with MS_RDONLY, or one remount, leaves the mount below writable.
GRADED_TEST_F(Lab09Volumes, ReadOnlyCoversTheVolumeAndEveryMountBelowIt, 13) {
    const std::string rootfs = makeRootfs();
    const std::string dir = makeTempDir();
    makeDirs(joinPath(dir, "sub"), 0755);
    const TestTmpfs below(joinPath(dir, "sub"));
    ASSERT_TRUE(below.mounted()) << "cannot mount a tmpfs on " << dir << "/sub";
    writeFileAtomic(joinPath(dir, "top"), "top");
    writeFileAtomic(joinPath(dir, "sub/file"), "sub");

    auto held = hold(rootfs, {"-v", dir + ":/data:ro"});
    ASSERT_TRUE(held.started());
    const auto mounts = mountInfo(held.hostPid());
    for (const std::string point : {"/data", "/data/sub"}) {
        const auto m = findMount(mounts, point);
        EXPECT_TRUE(m.has_value()) << "expected a mount at " << point << " in the container"
                                   << "\n  the container's mounts:" << describeMounts(mounts);
        if (m) {
            EXPECT_TRUE(hasOption(m->options, "ro"))
                << "expected " << point << " read-only (ro in its per-mount options), found "
                << m->describe() << " with options " << m->options;
        }
    }
    EXPECT_EQ(held.wait().exitCode, 0);

    for (const std::string path : {"/data/new", "/data/sub/new", "/data/top"}) {
        const RunResult r = runProbe(rootfs, {"-v", dir + ":/data:ro"}, {"write", path, "x"});
        EXPECT_EQ(r.exitCode, 1) << "expected a write to " << path << " to fail" << r;
        EXPECT_NE(r.err.find("Read-only file system"), std::string::npos)
            << "expected EROFS writing " << path << r;
    }
    EXPECT_FALSE(pathExists(joinPath(dir, "new")));
    EXPECT_FALSE(pathExists(joinPath(dir, "sub/new")));
    EXPECT_EQ(readFile(joinPath(dir, "top")), "top");
    // Read-only in the container only: the host's directory and tmpfs stay writable.
    for (const auto& m : hostMountsUnder(dir)) {
        EXPECT_FALSE(hasOption(m.options, "ro"))
            << "the host's mount became read-only: " << m.describe();
    }
}

// Targets through the image's symlinks resolve inside the rootfs: `/data -> /etc` puts
// the volume on the container's /etc; `/up -> ../../../..<decoy>` and `/abs -> <decoy>`
// (a host directory's path) lead to the rootfs's own copy of that path, where the missing
// directories are made. The host's decoy directory stays empty; nothing is mounted on
// the host.
GRADED_TEST_F(Lab09Volumes, SymlinkedTargetsResolveInsideTheRootfs, 13) {
    const std::string rootfs = makeRootfs();
    const std::string source = makeTempDir();
    const std::string marker = randomText();
    writeFileAtomic(joinPath(source, "marker"), marker);
    const std::string decoy = makeTempDir();  // what a resolution on the host would reach
    makeDirs(rootfs + decoy, 0755);           // the same path inside the rootfs
    const std::string dots = "../../../../../../../../../../../..";
    ASSERT_EQ(::symlink("/etc", joinPath(rootfs, "data").c_str()), 0);
    ASSERT_EQ(::symlink((dots + decoy).c_str(), joinPath(rootfs, "up").c_str()), 0);
    ASSERT_EQ(::symlink(decoy.c_str(), joinPath(rootfs, "abs").c_str()), 0);

    auto held = hold(rootfs, {"-v", source + ":/data", "-v", source + ":/up/made-up", "-v",
                              source + ":/abs/made-abs"});
    ASSERT_TRUE(held.started());
    const pid_t pid = held.hostPid();
    const auto mounts = mountInfo(pid);
    for (const std::string& point :
         std::vector<std::string>{"/etc", decoy + "/made-up", decoy + "/made-abs"}) {
        EXPECT_TRUE(findMount(mounts, point).has_value())
            << "expected the volume at " << point << " in the container"
            << "\n  the container's mounts:" << describeMounts(mounts);
        EXPECT_TRUE(sameInode(inside(pid, point), source))
            << "expected the container's " << point << " to be the volume " << source;
    }
    EXPECT_EQ(held.wait().exitCode, 0);

    EXPECT_TRUE(isDirectory(rootfs + decoy + "/made-up"))
        << "expected the missing directory made inside the rootfs";
    EXPECT_TRUE(isDirectory(rootfs + decoy + "/made-abs"))
        << "expected the missing directory made inside the rootfs";
    EXPECT_EQ(listDir(decoy), std::vector<std::string>{})
        << "expected nothing made in the host's " << decoy << " (a symlink was followed on "
        << "the host)";
    EXPECT_EQ(listDir(source), std::vector<std::string>{"marker"});
    for (const auto& m : newHostMounts()) {
        ADD_FAILURE() << "expected no new mount on the host, found " << m.describe();
    }
}

// The volumes are mounted in the container's mount namespace: the host's mount table is
// the same before, during and after a run with a read-write and a read-only volume.
GRADED_TEST_F(Lab09Volumes, HostMountTableIsUnchangedDuringTheRun, 5) {
    auto table = [] {
        std::vector<std::string> all;
        for (const auto& m : mountInfo()) all.push_back(m.describe());
        return all;
    };
    const std::string rootfs = makeRootfs();
    const std::string a = makeTempDir();
    const std::string b = makeTempDir();
    const auto before = table();
    auto held = hold(rootfs, {"-v", a + ":/a", "-v", b + ":/b:ro"});
    ASSERT_TRUE(held.started());
    for (const auto& m : newHostMounts()) {
        ADD_FAILURE() << "expected no new mount on the host while the container runs, found "
                      << m.describe();
    }
    EXPECT_EQ(table(), before) << "expected the host's mount table unchanged during the run";
    EXPECT_EQ(held.wait().exitCode, 0);
    EXPECT_EQ(table(), before) << "expected the host's mount table unchanged after the run";
}

// After the container ends, the host directory holds every file it held, and what the
// container wrote; nothing is mounted on it. The same when the runtime is killed with
// SIGKILL and the next command sweeps up after it.
GRADED_TEST_F(Lab09Volumes, HostDataIsIntactAfterTheContainerEnds, 8) {
    const std::string rootfs = makeRootfs();
    const std::string dir = makeTempDir();
    const std::string marker = randomText();
    makeDirs(joinPath(dir, "nested/deeper"), 0755);
    writeFileAtomic(joinPath(dir, "top"), marker);
    writeFileAtomic(joinPath(dir, "nested/deeper/file"), marker);
    ASSERT_EQ(::symlink("nested/deeper/file", joinPath(dir, "link").c_str()), 0);

    const RunResult write =
        runProbe(rootfs, {"-v", dir + ":/data"}, {"write", "/data/from-container", marker});
    ASSERT_EQ(write.exitCode, 0) << write;
    auto expectIntact = [&](const std::string& when) {
        EXPECT_EQ(listDir(dir),
                  (std::vector<std::string>{"from-container", "link", "nested", "top"}))
            << when;
        if (pathExists(joinPath(dir, "top"))) {
            EXPECT_EQ(readFile(joinPath(dir, "top")), marker) << when;
        }
        if (pathExists(joinPath(dir, "nested/deeper/file"))) {
            EXPECT_EQ(readFile(joinPath(dir, "nested/deeper/file")), marker) << when;
        } else {
            ADD_FAILURE() << "expected " << dir << "/nested/deeper/file " << when;
        }
        for (const auto& m : hostMountsUnder(dir)) {
            ADD_FAILURE() << "expected nothing mounted on " << dir << " " << when << ", found "
                          << m.describe();
        }
    };
    expectIntact("after the container ended");

    auto held = hold(rootfs, {"-v", dir + ":/data"});
    ASSERT_TRUE(held.started());
    ASSERT_EQ(::kill(held.runtimePid(), SIGKILL), 0);
    const RunResult killed = held.wait();
    EXPECT_EQ(killed.exitCode, 128 + SIGKILL) << killed;
    const RunResult sweep = lab({"volume", "ls"});  // every command sweeps first
    EXPECT_EQ(sweep.exitCode, 0) << sweep;
    expectIntact("after the runtime was killed and the next command swept up");
}

// A named volume is made on first use under <root>/volumes/NAME/_data, listed by `volume
// ls`, keeps what a container wrote for the next one, and goes with `volume rm`.
GRADED_TEST_F(Lab09Volumes, NamedVolumeKeepsItsDataAcrossContainers, 10) {
    const std::string rootfs = makeRootfs();
    const std::string marker = randomText();
    const RunResult write =
        runProbe(rootfs, {"-v", "keep.me:/store"}, {"write", "/store/kept", marker});
    ASSERT_EQ(write.exitCode, 0) << write;
    const std::string data = joinPath(root(), "volumes/keep.me/_data");
    EXPECT_TRUE(pathExists(joinPath(data, "kept"))) << "expected the data in " << data;
    EXPECT_EQ(listedVolumes(), std::vector<std::string>{"keep.me"});

    const RunResult read =
        runProbe(rootfs, {"-v", "keep.me:/elsewhere"}, {"read", "/elsewhere/kept"});
    EXPECT_EQ(read.exitCode, 0) << read;
    EXPECT_EQ(read.out, marker) << "expected the second container to read what the first wrote"
                                << read;

    const RunResult rm = lab({"volume", "rm", "keep.me"});
    EXPECT_EQ(rm.exitCode, 0) << rm;
    EXPECT_EQ(listedVolumes(), std::vector<std::string>{});
    EXPECT_FALSE(pathExists(joinPath(root(), "volumes/keep.me")));
}

// A new named volume gets what the container's root has at its target (Docker's copy-up:
// files, directories, symlinks, modes); once it holds data, it is never filled again.
GRADED_TEST_F(Lab09Volumes, NamedVolumeGetsTheRootsContentOnFirstUse, 10) {
    const std::string rootfs = makeRootfs();
    const std::string seed = joinPath(rootfs, "seed");
    const std::string marker = randomText();
    makeDirs(joinPath(seed, "dir"), 0750);
    writeFileAtomic(joinPath(seed, "a"), marker);
    ASSERT_EQ(::chmod(joinPath(seed, "a").c_str(), 0640), 0);
    writeFileAtomic(joinPath(seed, "dir/b"), "b");
    ASSERT_EQ(::symlink("dir/b", joinPath(seed, "link").c_str()), 0);

    const RunResult first = runProbe(rootfs, {"-v", "seeded:/seed"}, {"read", "/seed/link"});
    EXPECT_EQ(first.exitCode, 0) << first;
    EXPECT_EQ(first.out, "b") << "expected the volume to hold the root's /seed" << first;
    const std::string data = joinPath(root(), "volumes/seeded/_data");
    ASSERT_TRUE(pathExists(joinPath(data, "a"))) << "expected /seed copied into " << data;
    EXPECT_EQ(readFile(joinPath(data, "a")), marker);
    struct stat st {};
    ASSERT_EQ(::stat(joinPath(data, "a").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640u) << "expected the copy to keep the file's mode";
    ASSERT_EQ(::stat(joinPath(data, "dir").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0750u) << "expected the copy to keep the directory's mode";

    // The volume holds data now: a change in the root no longer reaches it.
    const std::string written = randomText();
    EXPECT_EQ(runProbe(rootfs, {"-v", "seeded:/seed"}, {"write", "/seed/a", written}).exitCode, 0);
    writeFileAtomic(joinPath(seed, "a"), "changed in the root");
    const RunResult again = runProbe(rootfs, {"-v", "seeded:/seed"}, {"read", "/seed/a"});
    EXPECT_EQ(again.out, written) << "expected the volume's own data, not a new copy" << again;
}

// A missing host directory is made (0755, as Docker does), parents included, and is the
// volume; a host file onto a missing target makes an empty file there, in the rootfs.
GRADED_TEST_F(Lab09Volumes, MissingHostDirectoryAndTargetAreMade, 5) {
    const std::string rootfs = makeRootfs();
    const std::string dir = joinPath(makeTempDir(), "new/deeper");
    const std::string marker = randomText();
    const RunResult r = runProbe(rootfs, {"-v", dir + ":/made"}, {"write", "/made/f", marker});
    EXPECT_EQ(r.exitCode, 0) << r;
    ASSERT_TRUE(isDirectory(dir)) << "expected the missing host directory " << dir << " made";
    struct stat st {};
    ASSERT_EQ(::stat(dir.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0755u);
    EXPECT_TRUE(pathExists(joinPath(dir, "f"))) << "expected the container's file in " << dir;

    const std::string file = makeTempFile(marker);
    const RunResult read =
        runProbe(rootfs, {"-v", file + ":/opt/one-file"}, {"read", "/opt/one-file"});
    EXPECT_EQ(read.exitCode, 0) << read;
    EXPECT_EQ(read.out, marker) << read;
    ASSERT_EQ(::lstat(joinPath(rootfs, "opt/one-file").c_str(), &st), 0)
        << "expected the file's mount point made in the rootfs";
    EXPECT_TRUE(S_ISREG(st.st_mode));
}

// Bad -v values are refused before anything is made: 125, one error line, nothing left
// (no record, no volume, no missing host directory made, no mount).
GRADED_TEST_F(Lab09Volumes, BadVolumeValuesAreRejected, 8) {
    const std::string rootfs = makeRootfs();
    const std::string dir = makeTempDir();
    const std::string missing = joinPath(makeTempDir(), "never-made");
    const std::vector<std::string> values = {
        "relative/dir:/data",   dir + ":/", dir + "://",       dir + ":data", dir + ":/data:rx",
        missing + ":/data:rox", dir,        dir + ":/a:ro:rw", "x:/data",     "-bad:/data",
        "bad/name:/data",       ":/data"};
    for (const std::string& value : values) {
        const RunResult r = runProbe(rootfs, {"-v", value}, {"exit", "0"});
        expectRejected(r, "volume");
    }
    EXPECT_FALSE(pathExists(missing)) << "a refused -v made its host directory";
    EXPECT_EQ(listDir(dir), std::vector<std::string>{});
}

// A file onto a directory, a directory onto a file, a named volume onto a file: refused
// (125, one line) once the target is seen in the root; the start is undone whole: no
// record, no new volume, nothing mounted, the host's file intact.
GRADED_TEST_F(Lab09Volumes, TypeMismatchesAreRejected, 5) {
    const std::string rootfs = makeRootfs();
    const std::string marker = randomText();
    const std::string file = makeTempFile(marker);
    const std::string dir = makeTempDir();
    for (const std::string& value :
         std::vector<std::string>{file + ":/etc", dir + ":/etc/passwd", "fresh:/etc/passwd"}) {
        const RunResult r = runProbe(rootfs, {"-v", value}, {"exit", "0"});
        expectRejected(r, "");
    }
    EXPECT_EQ(readFile(file), marker);
    EXPECT_TRUE(isDirectory(joinPath(rootfs, "etc")));
    EXPECT_EQ(listedVolumes(), std::vector<std::string>{});
}

// `volume rm` of an unknown volume is 125; of a volume a running container uses, 125 and
// the volume and its data stay; once the container is gone, it is removed.
GRADED_TEST_F(Lab09Volumes, VolumeRmRefusesUnknownAndInUseVolumes, 5) {
    const RunResult unknown = lab({"volume", "rm", "no-such-volume"});
    expectRejected(unknown, "no-such-volume");

    const std::string rootfs = makeRootfs();
    auto held = hold(rootfs, {"-v", "busy:/busy"});
    ASSERT_TRUE(held.started());
    writeFileAtomic(joinPath(root(), "volumes/busy/_data/kept"), "kept");
    const RunResult inUse = lab({"volume", "rm", "busy"});
    EXPECT_EQ(inUse.exitCode, 125) << inUse;
    expectOneErrorLine(inUse, "busy");
    EXPECT_TRUE(pathExists(joinPath(root(), "volumes/busy/_data/kept")))
        << "expected the volume in use kept whole";
    EXPECT_TRUE(pathExists(inside(held.hostPid(), "/busy/kept")));
    EXPECT_EQ(held.wait().exitCode, 0);

    const RunResult rm = lab({"volume", "rm", "busy"});
    EXPECT_EQ(rm.exitCode, 0) << rm;
    EXPECT_FALSE(pathExists(joinPath(root(), "volumes/busy")));
}

// A volume's data is the host's, never the image's: `commit` of a container that wrote
// to its volume makes a layer with what it wrote elsewhere and nothing of the volume (not
// even the mount point the runtime made), and a run of the new image has no such file.
// IMAGE comes right after the value of -v: one -v takes one value, never the image.
GRADED_TEST_F(Lab09Volumes, VolumeDataIsNotInACommittedImage, 8) {
    TestImage image;
    image.layers = {busyboxLayer(), probeLayer()};
    image.env = {"PATH=/bin:/usr/bin"};
    const std::string archive = joinPath(makeTempDir(), "image.tar");
    writeBytes(archive, dockerSaveArchive(image));
    const RunResult imported = lab({"import", archive, "base"});
    ASSERT_EQ(imported.exitCode, 0) << imported;

    const std::string dir = makeTempDir();
    const std::string marker = randomText();
    const std::string script = fmt::format(
        "echo {0} > /data/secret && echo {0} > /kept && exec /probe hold {1}", marker, kHoldFifo);
    HeldImage held({labBinary(), "--root", root(), "run", "--net", "none", "-v", dir + ":/data",
                    "base", "/bin/sh", "-c", script},
                   makeTempDir());
    ASSERT_TRUE(held.started());
    EXPECT_EQ(readFile(joinPath(dir, "secret")), marker + "\n")
        << "expected what the container wrote to /data in the host directory";

    const std::string containers = joinPath(root(), "containers");
    const auto ids = listDir(containers);
    ASSERT_EQ(ids.size(), 1u) << "expected one container under " << containers;
    const RunResult commit = lab({"commit", ids.front(), "committed"}, 60s);
    ASSERT_EQ(commit.exitCode, 0) << commit;
    EXPECT_EQ(held.wait().exitCode, 0);

    const json record = json::parse(readFile(joinPath(root(), "images/committed:latest.json")));
    const auto layers = record.at("layers").get<std::vector<std::string>>();
    ASSERT_EQ(layers.size(), 3u) << "expected the two layers of the image and one new";
    const std::string digest = layers.back();
    const std::string layer =
        joinPath(joinPath(root(), "layers"), digest.substr(digest.find(':') + 1));
    EXPECT_TRUE(pathExists(joinPath(layer, "kept")))
        << "expected the file written outside the volume in the new layer";
    EXPECT_FALSE(pathExists(joinPath(layer, "data")))
        << "expected neither the volume's data nor its mount point in the new layer";

    const RunResult secret = lab({"run", "--net", "none", "committed", "/bin/cat", "/data/secret"});
    EXPECT_NE(secret.exitCode, 0) << "expected no /data/secret in the committed image" << secret;
    EXPECT_EQ(secret.out.find(marker), std::string::npos) << secret;
    const RunResult kept = lab({"run", "--net", "none", "committed", "/bin/cat", "/kept"});
    EXPECT_EQ(kept.exitCode, 0) << kept;
    EXPECT_EQ(kept.out, marker + "\n");
}

}  // namespace
}  // namespace mydocker::test
