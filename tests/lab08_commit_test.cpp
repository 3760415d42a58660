// Lab 08's graded tests: a container's upper directory becomes a layer, and images leave
// the store as archives other tools load.
//
// The checklist of the lab, one test each. First the contract, called here: which xattrs
// a layer keeps; the diff walk over an upper directory the test makes itself (owners,
// modes, links, devices, whiteouts, opaque directories, capabilities, exclusions); the
// freezer on a cgroup the test makes. Then the runtime: `commit` of a running container
// judged by the store's files on disk, a run of the new image (its mountinfo, its files),
// the container's cgroup freezer files while the commit holds it, and `save` judged by
// the archive's bytes, hashed here independently.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "lab05_support.hpp"
#include "mydocker/commit.hpp"
#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/unique_fd.hpp"
#include "support/lab_test.hpp"

namespace mydocker::test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

// --- reading what is on disk ---------------------------------------------------------------

struct stat lstatOf(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) st.st_mode = 0;
    return st;
}

/// Every xattr of `path` (not following a symlink): name -> value.
std::map<std::string, std::string> xattrsOf(const std::string& path) {
    std::map<std::string, std::string> found;
    char names[4096];
    const ssize_t n = ::llistxattr(path.c_str(), names, sizeof names);
    for (ssize_t i = 0; i > -1 && i < n;) {
        const std::string name(names + i);
        char value[1024];
        const ssize_t v = ::lgetxattr(path.c_str(), name.c_str(), value, sizeof value);
        found[name] = v < 0 ? "?" : std::string(value, static_cast<std::size_t>(v));
        i += static_cast<ssize_t>(name.size()) + 1;
    }
    return found;
}

/// Every path below `dir` (relative), recursively, sorted.
std::vector<std::string> treeOf(const std::string& dir, const std::string& prefix = "") {
    std::vector<std::string> found;
    auto names = listDir(dir);
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
        const std::string relative = prefix.empty() ? name : prefix + "/" + name;
        found.push_back(relative);
        const std::string path = joinPath(dir, name);
        if (S_ISDIR(lstatOf(path).st_mode)) {
            const auto below = treeOf(path, relative);
            found.insert(found.end(), below.begin(), below.end());
        }
    }
    return found;
}

/// A line per entry below `dir`: its path, type, mode, owner, size, times, device, link
/// target, data hash and xattrs. Two equal descriptions are two equal trees.
std::string describeTree(const std::string& dir) {
    std::ostringstream text;
    for (const auto& relative : treeOf(dir)) {
        const std::string path = joinPath(dir, relative);
        const struct stat st = lstatOf(path);
        text << relative << " mode=" << std::oct << st.st_mode << std::dec << " owner=" << st.st_uid
             << ":" << st.st_gid << " rdev=" << major(st.st_rdev) << "," << minor(st.st_rdev);
        // A directory's size is its filesystem's business; a whiteout's mtime is when it
        // was made (by overlay, or by an import), not part of what it means.
        if (!S_ISDIR(st.st_mode)) text << " size=" << st.st_size;
        if (!(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))) {
            text << " mtime=" << st.st_mtim.tv_sec << "." << st.st_mtim.tv_nsec;
        }
        if (S_ISREG(st.st_mode)) text << " data=" << sha256(readFile(path));
        if (S_ISLNK(st.st_mode)) {
            char target[4096];
            const ssize_t n = ::readlink(path.c_str(), target, sizeof target);
            text << " target=" << std::string(target, n < 0 ? 0 : static_cast<std::size_t>(n));
        }
        for (const auto& [name, value] : xattrsOf(path)) text << " " << name << "=" << value;
        text << "\n";
    }
    return text.str();
}

/// The entries of a tar (plain or compressed), read with libarchive: name -> data, and the
/// names in order.
struct TarContents {
    std::vector<std::string> names;
    std::map<std::string, std::string> data;
    std::map<std::string, std::string> hardlinks;  ///< name -> the name it links to
    std::map<std::string, mode_t> modes;
};

TarContents readTar(const std::string& bytes) {
    TarContents contents;
    std::unique_ptr<::archive, decltype(&::archive_read_free)> a(::archive_read_new(),
                                                                 &::archive_read_free);
    ::archive_read_support_format_tar(a.get());
    ::archive_read_support_filter_all(a.get());
    if (::archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK) {
        ADD_FAILURE() << "not a tar: " << ::archive_error_string(a.get());
        return contents;
    }
    ::archive_entry* entry = nullptr;
    while (::archive_read_next_header(a.get(), &entry) == ARCHIVE_OK) {
        std::string name = ::archive_entry_pathname(entry);
        while (name.size() > 1 && name.back() == '/') name.pop_back();
        if (name.rfind("./", 0) == 0) name.erase(0, 2);
        std::string data;
        char buffer[65536];
        for (la_ssize_t n; (n = ::archive_read_data(a.get(), buffer, sizeof buffer)) > 0;) {
            data.append(buffer, static_cast<std::size_t>(n));
        }
        contents.names.push_back(name);
        contents.data[name] = data;
        contents.modes[name] = ::archive_entry_mode(entry);
        if (const char* link = ::archive_entry_hardlink(entry)) contents.hardlinks[name] = link;
    }
    return contents;
}

/// The cgroup v1 freezer hierarchy's mount point, "" if there is none.
std::string v1FreezerMount() {
    for (const auto& m : mountInfo()) {
        if (m.fsType == "cgroup" &&
            ("," + m.superOptions + ",").find(",freezer,") != std::string::npos) {
            return m.mountPoint;
        }
    }
    return {};
}

/// The freezer of a container as the kernel shows it: v2 its own cgroup's cgroup.events;
/// v1 (and hybrid) the freezer hierarchy's mydocker/<id>. "frozen", "thawed" or what the
/// file says ("absent" when there is no such cgroup).
std::string freezeStateOf(const std::string& id) {
    if (cgroupMode() == CgroupMode::v2) {
        const std::string events = fmt::format("/sys/fs/cgroup/mydocker/{}/cgroup.events", id);
        if (!pathExists(events)) return "absent";
        return readFile(events).find("frozen 1") != std::string::npos ? "frozen" : "thawed";
    }
    const std::string state =
        joinPath(v1FreezerMount(), fmt::format("mydocker/{}/freezer.state", id));
    if (!pathExists(state)) return "absent";
    const std::string value = readLine(state);
    return value == "FROZEN" ? "frozen" : value == "THAWED" ? "thawed" : value;
}

/// A process's CPU time so far (utime + stime of /proc/PID/stat), in clock ticks.
long cpuTicksOf(pid_t pid) {
    const std::string stat = readFile(fmt::format("/proc/{}/stat", pid));
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string field;
    long ticks = 0;
    for (int i = 3; fields >> field; ++i) {
        if (i == 14 || i == 15) ticks += std::stol(field);
        if (i == 15) break;
    }
    return ticks;
}

/// A file capability as setcap(8) writes it: VFS_CAP_REVISION_2, cap_net_raw (13)
/// permitted and effective.
std::string netRawCapability() {
    std::string value(20, '\0');
    const std::uint32_t magic = 0x02000000 | 0x000001;  // revision 2, effective
    const std::uint32_t permitted = 1u << 13;
    std::memcpy(value.data(), &magic, 4);
    std::memcpy(value.data() + 4, &permitted, 4);
    return value;
}

// --- the fixture ---------------------------------------------------------------------------------

/// The FIFO the held containers' CMD holds (the probe layer has it).
constexpr const char* kHold = "exec /probe hold /hold.fifo";

class Lab08Test : public LabTest {
  protected:
    void TearDown() override {
        held_.clear();  // before the leak check: their runtimes must have ended
        LabTest::TearDown();
    }

    /// The test image: busybox, the probe, and a layer of data the containers change.
    static TestImage dataImage() {
        TestImage image;
        image.layers = {
            busyboxLayer(), probeLayer(),
            makeTar({TarEntry::dir("data"), TarEntry::file("data/file", "original\n"),
                     TarEntry::file("data/gone", "soon gone\n"), TarEntry::dir("data/dir"),
                     TarEntry::file("data/dir/old", "in the lower dir\n")})};
        image.cmd = {"/bin/sh"};
        image.env = {"PATH=/bin:/usr/bin", "LAB=08"};
        image.workingDir = "/data";
        return image;
    }

    void importImage(const TestImage& image, const std::string& name) {
        const std::string archive = joinPath(makeTempDir(), "image.tar");
        writeBytes(archive, dockerSaveArchive(image));
        const RunResult r = lab({"import", archive, name});
        ASSERT_EQ(r.exitCode, 0) << "expected the import to succeed" << r;
    }

    /// `run --net none IMAGE /bin/sh -c "SCRIPT && exec /probe hold /hold.fifo"`, held.
    HeldImage& hold(const std::string& image, const std::string& script,
                    const std::vector<std::string>& flags = {"--net", "none"}) {
        std::vector<std::string> argv = {labBinary(), "--root", root(), "run"};
        argv.insert(argv.end(), flags.begin(), flags.end());
        argv.push_back(image);
        argv.insert(argv.end(),
                    {"/bin/sh", "-c", script.empty() ? kHold : script + " && " + kHold});
        held_.push_back(std::make_unique<HeldImage>(argv, makeTempDir()));
        return *held_.back();
    }

    std::vector<std::string> containerIds() const {
        const std::string dir = joinPath(root(), "containers");
        return isDirectory(dir) ? listDir(dir) : std::vector<std::string>{};
    }
    /// The id of the one container of the test.
    std::string onlyContainer() const {
        const auto ids = containerIds();
        return ids.size() == 1 ? ids.front() : std::string();
    }
    std::string upperOf(const std::string& id) const {
        return joinPath(joinPath(joinPath(root(), "containers"), id), "upper");
    }

    /// The record of image `name` in the store (images/NAME:latest.json).
    json imageRecord(const std::string& name) const {
        const std::string path = joinPath(joinPath(root(), "images"), name + ":latest.json");
        if (!pathExists(path)) return json();
        return json::parse(readFile(path));
    }
    std::vector<std::string> layersOf(const std::string& name) const {
        const json record = imageRecord(name);
        if (!record.is_object()) return {};
        return record.at("layers").get<std::vector<std::string>>();
    }
    std::string layerDir(const std::string& digest) const {
        return joinPath(joinPath(root(), "layers"), digest.substr(digest.find(':') + 1));
    }

    /// Holds a container on `base` that ran `script`, commits it as `name`, and returns
    /// the new layer's directory ("" if the commit failed, with a test failure).
    std::string commitOf(const std::string& script, const std::string& name = "committed",
                         const std::string& base = "base") {
        HeldImage& held = hold(base, script);
        if (!held.started()) {
            ADD_FAILURE() << held.started().message();
            return {};
        }
        const RunResult r = lab({"commit", onlyContainer().substr(0, 12), name}, 60s);
        EXPECT_EQ(r.exitCode, 0) << "expected the commit to succeed" << r;
        const auto layers = layersOf(name);
        if (r.exitCode != 0 || layers.empty()) return {};
        return layerDir(layers.back());
    }

    std::vector<std::unique_ptr<HeldImage>> held_;
};

// --- the contract -------------------------------------------------------------------------------

class Lab08Contract : public Lab08Test {};

// Of overlay's xattrs only `opaque` means something in a layer; every other xattr stays.
GRADED_TEST_F(Lab08Contract, OnlyTheOpaqueXattrOfOverlaysIsKept, 4) {
    for (const char* name :
         {"trusted.overlay.origin", "trusted.overlay.impure", "trusted.overlay.redirect",
          "trusted.overlay.nlink", "trusted.overlay.metacopy", "trusted.overlay.upper",
          "trusted.overlay.uuid"}) {
        EXPECT_FALSE(commit::keepsXattr(name)) << "expected " << name << " stripped from a layer";
    }
    for (const char* name : {"trusted.overlay.opaque", "security.capability", "user.comment",
                             "system.posix_acl_access", "trusted.other", "trusted.overlayx"}) {
        EXPECT_TRUE(commit::keepsXattr(name)) << "expected " << name << " kept in a layer";
    }
}

// The walk over an upper directory made here: every kind of entry arrives exactly, the
// whiteouts and the opaque directory in overlay's format, overlay's own xattrs gone, the
// excluded paths (and what is below them) left out, and nothing of it changed.
GRADED_TEST_F(Lab08Contract, TheDiffWalkCopiesAnUpperDirExactly, 10) {
    const std::string upper = makeTempDir();
    const std::string layer = makeTempDir();
    const auto path = [&](const std::string& name) { return joinPath(upper, name); };
    makeDirs(path("bin"), 0755);
    makeDirs(path("etc"), 0755);
    makeDirs(path("data/dir"), 0755);
    makeDirs(path("volume/deep"), 0755);
    writeBytes(path("bin/tool"), "a setuid tool\n");
    ASSERT_EQ(::chown(path("bin/tool").c_str(), 1234, 5678), 0);
    ASSERT_EQ(::chmod(path("bin/tool").c_str(), 04750), 0);
    writeBytes(path("bin/ping"), "a capable program\n");
    ASSERT_EQ(::chown(path("bin/ping").c_str(), 0, 0), 0);
    const std::string capability = netRawCapability();
    ASSERT_EQ(::setxattr(path("bin/ping").c_str(), "security.capability", capability.data(),
                         capability.size(), 0),
              0);
    ASSERT_EQ(::setxattr(path("bin/ping").c_str(), "trusted.overlay.origin", "\0\1", 2, 0), 0);
    ASSERT_EQ(::link(path("bin/tool").c_str(), path("bin/tool-link").c_str()), 0);
    ASSERT_EQ(::symlink("/bin/tool", path("bin/sym").c_str()), 0);
    ASSERT_EQ(::lchown(path("bin/sym").c_str(), 42, 43), 0);
    ASSERT_EQ(::mkfifo(path("data/fifo").c_str(), 0620), 0);
    ASSERT_EQ(::chmod(path("data/fifo").c_str(), 0620), 0);  // whatever the umask
    ASSERT_EQ(::mknod(path("data/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
    ASSERT_EQ(::mknod(path("data/gone").c_str(), S_IFCHR, makedev(0, 0)), 0);  // a whiteout
    ASSERT_EQ(::setxattr(path("data/dir").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
    ASSERT_EQ(::setxattr(path("data").c_str(), "trusted.overlay.impure", "y", 1, 0), 0);
    writeBytes(path("data/dir/new"), "after the opaque\n");
    writeBytes(path("etc/hosts"), "");        // the runtime's mount point
    writeBytes(path("etc/motd"), "hello\n");  // the container's own
    writeBytes(path("volume/deep/file"), "a volume's data\n");
    const timespec times[2] = {{1600000000, 0}, {1600000000, 123456789}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path("etc/motd").c_str(), times, 0), 0);
    ASSERT_EQ(::utimensat(AT_FDCWD, path("data/dir").c_str(), times, 0), 0);
    const std::string before = describeTree(upper);

    const UniqueFd from(::open(upper.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    const UniqueFd to(::open(layer.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    commit::copyUpperDir(from.get(), to.get(), {"etc/hosts", "volume"});

    EXPECT_EQ(describeTree(upper), before) << "expected the upper dir unchanged by the walk";
    const std::vector<std::string> expected = {
        "bin",       "bin/ping", "bin/sym",      "bin/tool",  "bin/tool-link",
        "data",      "data/dir", "data/dir/new", "data/fifo", "data/gone",
        "data/null", "etc",      "etc/motd"};
    EXPECT_EQ(treeOf(layer), expected) << "expected every entry but etc/hosts and volume/";
    const auto in = [&](const std::string& name) { return joinPath(layer, name); };
    const struct stat tool = lstatOf(in("bin/tool"));
    EXPECT_EQ(tool.st_mode, S_IFREG | 04750u) << "expected the setuid mode kept";
    EXPECT_EQ(tool.st_uid, 1234u);
    EXPECT_EQ(tool.st_gid, 5678u);
    EXPECT_EQ(readFile(in("bin/tool")), "a setuid tool\n");
    EXPECT_EQ(lstatOf(in("bin/tool-link")).st_ino, tool.st_ino)
        << "expected bin/tool-link a hard link of bin/tool";
    const auto pingXattrs = xattrsOf(in("bin/ping"));
    EXPECT_EQ(pingXattrs.count("security.capability"), 1u) << "expected the file capability kept";
    if (pingXattrs.count("security.capability") != 0) {
        EXPECT_EQ(pingXattrs.at("security.capability"), capability);
    }
    EXPECT_EQ(pingXattrs.count("trusted.overlay.origin"), 0u) << "expected overlay's origin gone";
    const struct stat sym = lstatOf(in("bin/sym"));
    EXPECT_TRUE(S_ISLNK(sym.st_mode));
    EXPECT_EQ(sym.st_uid, 42u) << "expected the symlink's own owner";
    char target[64] = {};
    EXPECT_EQ(
        std::string(target, static_cast<std::size_t>(std::max<ssize_t>(
                                0, ::readlink(in("bin/sym").c_str(), target, sizeof target)))),
        "/bin/tool");
    EXPECT_EQ(lstatOf(in("data/fifo")).st_mode, S_IFIFO | 0620u);
    EXPECT_EQ(lstatOf(in("data/null")).st_rdev, makedev(1, 3));
    const struct stat gone = lstatOf(in("data/gone"));
    EXPECT_TRUE(S_ISCHR(gone.st_mode) && gone.st_rdev == makedev(0, 0))
        << "expected the whiteout a 0/0 character device";
    EXPECT_EQ(xattrsOf(in("data/dir")),
              (std::map<std::string, std::string>{{"trusted.overlay.opaque", "y"}}))
        << "expected the opaque directory kept opaque";
    EXPECT_TRUE(xattrsOf(in("data")).empty()) << "expected overlay's impure gone";
    EXPECT_EQ(lstatOf(in("etc/motd")).st_mtim.tv_nsec, 123456789) << "expected the mtime kept";
    EXPECT_EQ(lstatOf(in("data/dir")).st_mtim.tv_sec, 1600000000)
        << "expected the directory's mtime kept (set after its entries)";
}

// freeze() stops every task of a cgroup and returns once the kernel says so; thaw() lets
// them run again. Judged by the kernel's freezer file and by a busy process's CPU time.
GRADED_TEST_F(Lab08Contract, FreezeStopsACgroupsTasksAndThawLetsThemRun, 8) {
    commit::Freezer freezer;
    if (cgroupMode() == CgroupMode::v2) {
        freezer = {2, fmt::format("/sys/fs/cgroup/mydocker-lab08-{}", ::getpid())};
    } else {
        ASSERT_FALSE(v1FreezerMount().empty()) << "expected a v1 freezer hierarchy";
        freezer = {1, joinPath(v1FreezerMount(), fmt::format("mydocker-lab08-{}", ::getpid()))};
    }
    ASSERT_EQ(::mkdir(freezer.dir.c_str(), 0755), 0) << freezer.dir;
    const pid_t busy = ::fork();
    ASSERT_GE(busy, 0);
    if (busy == 0) {
        ::alarm(60);  // never outlives the test
        volatile unsigned long spins = 0;
        for (;;) spins = spins + 1;  // busy: CPU time that only a freeze stops
    }
    std::string failure;
    try {
        writeFile(joinPath(freezer.dir, "cgroup.procs"), std::to_string(busy));
        commit::freeze(freezer);
        EXPECT_TRUE(commit::isFrozen(freezer)) << "expected the kernel to report it frozen";
        const long frozenAt = cpuTicksOf(busy);
        std::this_thread::sleep_for(300ms);
        EXPECT_EQ(cpuTicksOf(busy), frozenAt) << "expected a frozen task to use no CPU";
        commit::thaw(freezer);
        std::this_thread::sleep_for(300ms);
        EXPECT_FALSE(commit::isFrozen(freezer)) << "expected the cgroup thawed";
        EXPECT_GT(cpuTicksOf(busy), frozenAt) << "expected the task to run again once thawed";
    } catch (const std::exception& e) {
        failure = e.what();
    }
    // Whatever happened: thawed, killed, and the cgroup removed.
    if (cgroupMode() == CgroupMode::v2) {
        ::kill(busy, SIGKILL);
        try {
            writeFile(joinPath(freezer.dir, "cgroup.freeze"), "0");
        } catch (const std::exception&) {
        }
    } else {
        try {
            writeFile(joinPath(freezer.dir, "freezer.state"), "THAWED");
        } catch (const std::exception&) {
        }
        ::kill(busy, SIGKILL);
    }
    ::waitpid(busy, nullptr, 0);
    for (int i = 0; i < 100 && ::rmdir(freezer.dir.c_str()) != 0; ++i) {
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_TRUE(failure.empty()) << failure;
}

// --- commit
// ---------------------------------------------------------------------------------------

class Lab08Commit : public Lab08Test {
  protected:
    void SetUp() override {
        Lab08Test::SetUp();
        if (!IsSkipped()) importImage(dataImage(), "base");
    }
};

// The new image is its parent's layers plus one, the parent's untouched, and keeps the
// parent's config.
GRADED_TEST_F(Lab08Commit, TheNewImageIsTheParentsLayersPlusOne, 8) {
    const std::vector<std::string> parent = layersOf("base");
    ASSERT_EQ(parent.size(), 3u);
    std::vector<std::string> before;
    for (const auto& digest : parent) before.push_back(describeTree(layerDir(digest)));

    const std::string layer = commitOf("echo changed > /data/file && echo new > /data/new");
    ASSERT_FALSE(layer.empty());
    const std::vector<std::string> layers = layersOf("committed");
    ASSERT_EQ(layers.size(), parent.size() + 1) << "expected the parent's layers plus one";
    for (std::size_t i = 0; i < parent.size(); ++i) {
        EXPECT_EQ(layers[i], parent[i]) << "expected layer " << i + 1 << " the parent's";
        EXPECT_EQ(describeTree(layerDir(parent[i])), before[i])
            << "expected the parent's layer " << i + 1 << " unchanged (content and metadata)";
    }
    EXPECT_EQ(readFile(joinPath(layer, "data/file")), "changed\n");
    EXPECT_EQ(readFile(joinPath(layer, "data/new")), "new\n");
    EXPECT_EQ(lstatOf(joinPath(layer, "bin")).st_mode, 0u)
        << "expected nothing the container did not change in the new layer";
    const json config = imageRecord("committed").at("config");
    EXPECT_EQ(config.at("Env"), json({"PATH=/bin:/usr/bin", "LAB=08"})) << "the parent's Env";
    EXPECT_EQ(config.at("Cmd"), json({"/bin/sh"}));
    EXPECT_EQ(config.at("WorkingDir"), "/data");
}

// A container of the new image stacks one more lowerdir than its parent's, and sees what
// the committed container left: its files, not the ones it deleted.
GRADED_TEST_F(Lab08Commit, ARunOfTheNewImageHasOneMoreLowerdirAndTheChanges, 7) {
    ASSERT_FALSE(commitOf("echo changed > /data/file && rm /data/gone").empty());
    held_.clear();
    HeldImage& child = hold("committed", "");
    ASSERT_TRUE(child.started());
    const auto rootMount = findMount(mountInfo(child.hostPid()), "/");
    ASSERT_TRUE(rootMount.has_value());
    std::string lowerdir;
    for (std::size_t start = 0; start < rootMount->superOptions.size();) {
        const std::size_t end =
            std::min(rootMount->superOptions.find(',', start), rootMount->superOptions.size());
        const std::string option = rootMount->superOptions.substr(start, end - start);
        if (option.rfind("lowerdir=", 0) == 0) lowerdir = option.substr(9);
        start = end + 1;
    }
    EXPECT_EQ(std::count(lowerdir.begin(), lowerdir.end(), ':') + 1, 4)
        << "expected 4 lowerdirs (the parent's 3 and the new layer): " << rootMount->superOptions;
    const std::string inside = fmt::format("/proc/{}/root", child.hostPid());
    EXPECT_EQ(readFile(inside + "/data/file"), "changed\n");
    EXPECT_EQ(lstatOf(inside + "/data/gone").st_mode, 0u)
        << "expected the file deleted in the committed container absent";
    EXPECT_EQ(child.wait().exitCode, 0);
}

// A deleted file is a whiteout in the new layer (and absent in a run of it); a directory
// removed and made again is opaque: the lower layers' entries stay hidden.
GRADED_TEST_F(Lab08Commit, DeletionsAreWhiteoutsAndRecreatedDirectoriesOpaque, 9) {
    const std::string layer =
        commitOf("rm /data/gone && rm -r /data/dir && mkdir /data/dir && echo new > /data/dir/new");
    ASSERT_FALSE(layer.empty());
    const struct stat gone = lstatOf(joinPath(layer, "data/gone"));
    EXPECT_TRUE(S_ISCHR(gone.st_mode) && gone.st_rdev == makedev(0, 0))
        << "expected data/gone a 0/0 character device in the new layer";
    EXPECT_EQ(xattrsOf(joinPath(layer, "data/dir"))["trusted.overlay.opaque"], "y")
        << "expected data/dir opaque in the new layer";
    held_.clear();
    HeldImage& child = hold("committed", "");
    ASSERT_TRUE(child.started());
    const std::string inside = fmt::format("/proc/{}/root", child.hostPid());
    EXPECT_EQ(lstatOf(inside + "/data/gone").st_mode, 0u) << "expected data/gone absent";
    EXPECT_EQ(listDir(inside + "/data/dir"), std::vector<std::string>{"new"})
        << "expected only the new entry in the recreated directory";
    EXPECT_EQ(child.wait().exitCode, 0);
}

// Overlay's bookkeeping in the upper dir (origin of copied-up files, impure directories,
// ...) never reaches the layer; `opaque` does.
GRADED_TEST_F(Lab08Commit, OnlyOpaqueRemainsOfOverlaysXattrs, 7) {
    HeldImage& held = hold("base",
                           "echo more >> /data/file && mkdir /data/made && "
                           "rm -r /data/dir && mkdir /data/dir");
    ASSERT_TRUE(held.started());
    const std::string id = onlyContainer();
    // However this kernel's overlay marks its copy-ups: a private xattr is there for sure.
    const std::string made = joinPath(upperOf(id), "data/made");
    ASSERT_EQ(::setxattr(made.c_str(), "trusted.overlay.impure", "y", 1, 0), 0);
    std::set<std::string> inUpper;
    for (const auto& relative : treeOf(upperOf(id))) {
        for (const auto& entry : xattrsOf(joinPath(upperOf(id), relative))) {
            if (entry.first.rfind("trusted.overlay.", 0) == 0) inUpper.insert(entry.first);
        }
    }
    ASSERT_GT(inUpper.size(), 1u) << "expected overlay's xattrs in the upper dir";

    const RunResult r = lab({"commit", id, "committed"}, 60s);
    ASSERT_EQ(r.exitCode, 0) << r;
    const std::string layer = layerDir(layersOf("committed").back());
    std::set<std::string> inLayer;
    for (const auto& relative : treeOf(layer)) {
        for (const auto& entry : xattrsOf(joinPath(layer, relative))) {
            if (entry.first.rfind("trusted.overlay.", 0) == 0) {
                inLayer.insert(entry.first);
                EXPECT_EQ(entry.first, "trusted.overlay.opaque")
                    << "expected no " << entry.first << " in the layer (on " << relative << ")";
            }
        }
    }
    EXPECT_EQ(inLayer.count("trusted.overlay.opaque"), 1u) << "expected the opaque data/dir";
}

// What the container made keeps its owners, modes, hard links, symlinks, fifos and a
// file capability.
GRADED_TEST_F(Lab08Commit, OwnersModesLinksAndACapabilitySurvive, 9) {
    HeldImage& held =
        hold("base",
             "echo tool > /data/tool && chown 1234:5678 /data/tool && chmod 4750 /data/tool && "
             "ln /data/tool /data/tool-link && ln -s tool /data/sym && chown -h 42:43 /data/sym && "
             "mkfifo -m 620 /data/fifo && echo ping > /data/ping");
    ASSERT_TRUE(held.started());
    // setcap(8) as the host's root would: through the container's root, into its upper dir.
    const std::string capability = netRawCapability();
    const std::string ping = fmt::format("/proc/{}/root/data/ping", held.hostPid());
    ASSERT_EQ(
        ::setxattr(ping.c_str(), "security.capability", capability.data(), capability.size(), 0),
        0);
    const RunResult r = lab({"commit", onlyContainer(), "committed"}, 60s);
    ASSERT_EQ(r.exitCode, 0) << r;
    const std::string layer = layerDir(layersOf("committed").back());
    const struct stat tool = lstatOf(joinPath(layer, "data/tool"));
    EXPECT_EQ(tool.st_mode, S_IFREG | 04750u) << "expected the setuid mode kept";
    EXPECT_EQ(tool.st_uid, 1234u);
    EXPECT_EQ(tool.st_gid, 5678u);
    EXPECT_EQ(lstatOf(joinPath(layer, "data/tool-link")).st_ino, tool.st_ino)
        << "expected data/tool-link a hard link of data/tool in the layer";
    const struct stat sym = lstatOf(joinPath(layer, "data/sym"));
    EXPECT_TRUE(S_ISLNK(sym.st_mode));
    EXPECT_EQ(sym.st_uid, 42u);
    EXPECT_EQ(sym.st_gid, 43u);
    EXPECT_EQ(lstatOf(joinPath(layer, "data/fifo")).st_mode, S_IFIFO | 0620u);
    EXPECT_EQ(xattrsOf(joinPath(layer, "data/ping"))["security.capability"], capability)
        << "expected the file capability in the layer";
}

// /etc/hosts and /etc/resolv.conf are the runtime's bind mounts (lab 06): on an image
// without them, overlay holds their mount points in the upper dir; none is in the layer.
GRADED_TEST_F(Lab08Commit, TheRuntimesMountPointsAreNotInTheLayer, 7) {
    TestImage image = dataImage();
    image.layers.push_back(
        makeTar({TarEntry::file("etc/.wh.hosts", ""), TarEntry::file("etc/.wh.resolv.conf", "")}));
    importImage(image, "bare");
    const std::string layer =
        commitOf("echo 10.9.9.9 extra >> /etc/hosts && echo mine > /etc/motd", "committed", "bare");
    ASSERT_FALSE(layer.empty());
    EXPECT_EQ(readFile(joinPath(layer, "etc/motd")), "mine\n")
        << "expected the container's own file in /etc in the layer";
    for (const char* name : {"etc/hosts", "etc/resolv.conf"}) {
        EXPECT_EQ(lstatOf(joinPath(layer, name)).st_mode, 0u)
            << "expected no " << name << " in the new layer (the runtime's mount point)";
        EXPECT_TRUE(pathExists(joinPath(upperOf(onlyContainer()), name)))
            << "expected overlay's mount point " << name << " in the upper dir";
    }
}

// A running container is frozen while the commit copies it (its cgroup's freezer says
// so, and a loop in it stops), then runs on. The commit waits while frozen only because
// the test asks it to, through MYDOCKER_COMMIT_PAUSE.
GRADED_TEST_F(Lab08Commit, ARunningContainerIsFrozenDuringTheCommitAndRunsOn, 9) {
    HeldImage& held =
        hold("base", "(while :; do echo tick >> /tmp/ticks; usleep 20000; done) & true");
    ASSERT_TRUE(held.started());
    const std::string id = onlyContainer();
    const std::string ticks = fmt::format("/proc/{}/root/tmp/ticks", held.hostPid());
    const std::string pause = joinPath(makeTempDir(), "paused");
    ASSERT_EQ(::setenv("MYDOCKER_COMMIT_PAUSE", pause.c_str(), 1), 0);

    std::string during;
    off_t ticksFrozen = -1;
    off_t ticksLater = -1;
    LaunchOptions options;
    options.timeout = 60s;
    options.afterStart = [&](pid_t) {
        for (int i = 0; i < 2000 && !pathExists(pause); ++i) std::this_thread::sleep_for(10ms);
        if (!pathExists(pause)) return;  // the commit failed first: judged below
        during = freezeStateOf(id);
        const off_t first = lstatOf(ticks).st_size;
        std::this_thread::sleep_for(300ms);
        ticksFrozen = lstatOf(ticks).st_size - first;
        ::unlink(pause.c_str());
    };
    const RunResult r = lab({"commit", id, "committed"}, options);
    ::unsetenv("MYDOCKER_COMMIT_PAUSE");
    ASSERT_EQ(r.exitCode, 0) << r;
    EXPECT_EQ(during, "frozen") << "expected the container's cgroup frozen during the commit";
    EXPECT_EQ(ticksFrozen, 0) << "expected the loop in the container stopped while frozen";
    const std::string after = freezeStateOf(id);
    EXPECT_TRUE(after == "thawed" || after == "absent")
        << "expected the container thawed after the commit, found " << after;
    const off_t atEnd = lstatOf(ticks).st_size;
    std::this_thread::sleep_for(300ms);
    ticksLater = lstatOf(ticks).st_size - atEnd;
    EXPECT_GT(ticksLater, 0) << "expected the container to run on after the commit";
    EXPECT_EQ(held.wait().exitCode, 0);
}

// Bad input is refused, 125 and one line, and changes nothing in the store.
GRADED_TEST_F(Lab08Commit, BadInputIsRefusedAndChangesNothing, 6) {
    ASSERT_FALSE(commitOf("echo x > /data/x", "taken").empty());
    const std::string id = onlyContainer();
    std::vector<std::string> before = rootEntries();
    const auto refused = [&](const std::vector<std::string>& args, const std::string& topic) {
        const RunResult r = lab(args);
        EXPECT_EQ(r.exitCode, 125) << r;
        expectOneErrorLine(r, topic);
        EXPECT_EQ(rootEntries(), before)
            << "expected nothing changed under --root by " << r.command;
    };
    refused({"commit", "0123456789ab", "other"}, "0123456789ab");
    refused({"commit", id, "taken"}, "taken");
    refused({"commit", id, "Bad/Name"}, "Bad/Name");
    refused({"commit", "", "other"}, "container");
    refused({"save", "nosuch", "-o", joinPath(makeTempDir(), "x.tar")}, "nosuch");
    refused({"save", "taken", "-o", joinPath(makeTempDir(), "x.tar"), "--format", "zip"}, "zip");
    refused({"save", "taken", "-o", "/nonexistent-dir/x.tar"}, "nonexistent-dir");

    held_.clear();  // the container exits: its upper dir goes with it
    before = rootEntries();
    refused({"commit", id, "other"}, "upper");

    const std::string rootfs = makeRootfs();
    HeldContainer onRootfs = startHeld({"--net", "none"}, rootfs);
    ASSERT_TRUE(onRootfs.started());
    std::string rootfsId;
    for (const auto& other : containerIds()) {
        if (other != id) rootfsId = other;
    }
    const RunResult r = lab({"commit", rootfsId, "other"});
    EXPECT_EQ(r.exitCode, 125) << r;
    expectOneErrorLine(r, "rootfs");
    EXPECT_FALSE(pathExists(joinPath(joinPath(root(), "images"), "other:latest.json")));
    EXPECT_EQ(onRootfs.wait().exitCode, 0);
}

// --- save
// -----------------------------------------------------------------------------------------

class Lab08Save : public Lab08Commit {};

// `save` then `import` gives the same layers: the same diff ids (the committed layer's the
// one commit recorded), the same files, from an OCI archive and from a docker-archive.
GRADED_TEST_F(Lab08Save, SaveThenImportRoundTrips, 8) {
    const std::string layer = commitOf(
        "echo changed > /data/file && rm /data/gone && rm -r /data/dir && mkdir /data/dir && "
        "echo new > /data/dir/new && ln /data/file /data/link");
    ASSERT_FALSE(layer.empty());
    const std::vector<std::string> committed = layersOf("committed");
    const std::string dir = makeTempDir();
    for (const char* format : {"oci-archive", "docker-archive"}) {
        const std::string archive = joinPath(dir, std::string(format) + ".tar");
        const std::string name = std::string("copy-") + format;
        RunResult r = lab({"save", "committed", "-o", archive, "--format", format}, 60s);
        ASSERT_EQ(r.exitCode, 0) << r;
        r = lab({"import", archive, name}, 60s);
        ASSERT_EQ(r.exitCode, 0) << r;
        const std::vector<std::string> copy = layersOf(name);
        ASSERT_EQ(copy.size(), committed.size()) << format;
        EXPECT_EQ(copy.back(), committed.back())
            << format << ": expected the committed layer's diff id to survive the round trip";
        for (std::size_t i = 0; i < copy.size(); ++i) {
            EXPECT_EQ(describeTree(layerDir(copy[i])), describeTree(layerDir(committed[i])))
                << format << ": expected layer " << i + 1 << "'s files the same after import";
        }
        EXPECT_EQ(imageRecord(name).at("config"), imageRecord("committed").at("config"));
        // Saved again, the copy is the same archive: the layers' tars are their files'.
        const std::string again = joinPath(dir, std::string(format) + "-again.tar");
        r = lab({"save", name, "-o", again, "--format", format}, 60s);
        ASSERT_EQ(r.exitCode, 0) << r;
        EXPECT_EQ(layersOf(name), copy);
        const TarContents first = readTar(readFile(archive));
        const TarContents second = readTar(readFile(again));
        std::set<std::string> blobsFirst;
        std::set<std::string> blobsSecond;
        for (const auto& [n, data] : first.data) blobsFirst.insert(sha256(data));
        for (const auto& [n, data] : second.data) blobsSecond.insert(sha256(data));
        size_t shared = 0;
        for (const auto& digest : blobsFirst) shared += blobsSecond.count(digest);
        EXPECT_GE(shared, copy.size()) << format << ": expected the same layer tars saved again";
    }
}

// The OCI archive checks out, every digest recomputed here: index -> manifest -> config
// and layers; diff ids are the layers' digests; whiteouts are AUFS's in the tar.
GRADED_TEST_F(Lab08Save, TheArchiveIsAValidOciLayout, 8) {
    ASSERT_FALSE(commitOf("rm /data/gone && rm -r /data/dir && mkdir /data/dir").empty());
    const std::string archive = joinPath(makeTempDir(), "image.tar");
    const RunResult r = lab({"save", "committed", "-o", archive}, 60s);
    ASSERT_EQ(r.exitCode, 0) << r;
    const TarContents tar = readTar(readFile(archive));
    ASSERT_EQ(tar.data.count("oci-layout"), 1u);
    EXPECT_EQ(json::parse(tar.data.at("oci-layout")).at("imageLayoutVersion"), "1.0.0");
    ASSERT_EQ(tar.data.count("index.json"), 1u);
    const json index = json::parse(tar.data.at("index.json"));
    ASSERT_EQ(index.at("manifests").size(), 1u);
    const auto blob = [&](const json& descriptor) -> std::string {
        const std::string digest = descriptor.at("digest");
        const std::string name = "blobs/sha256/" + digest.substr(7);
        if (tar.data.count(name) == 0) {
            ADD_FAILURE() << "expected the blob " << name;
            return {};
        }
        const std::string& data = tar.data.at(name);
        EXPECT_EQ(sha256(data), digest) << "expected blob " << name << " to have its digest";
        EXPECT_EQ(descriptor.at("size").get<std::size_t>(), data.size()) << name;
        return data;
    };
    const json& entry = index.at("manifests")[0];
    EXPECT_EQ(entry.at("mediaType"), "application/vnd.oci.image.manifest.v1+json");
    EXPECT_EQ(entry.at("annotations").at("org.opencontainers.image.ref.name"), "committed:latest");
    const json manifest = json::parse(blob(entry));
    EXPECT_EQ(manifest.at("schemaVersion"), 2);
    EXPECT_EQ(manifest.at("config").at("mediaType"), "application/vnd.oci.image.config.v1+json");
    const json config = json::parse(blob(manifest.at("config")));
    EXPECT_EQ(config.at("os"), "linux");
    EXPECT_EQ(config.at("config").at("Env"), json({"PATH=/bin:/usr/bin", "LAB=08"}));
    const json& layers = manifest.at("layers");
    const json& diffIds = config.at("rootfs").at("diff_ids");
    ASSERT_EQ(layers.size(), 4u);
    ASSERT_EQ(diffIds.size(), 4u);
    std::string top;
    for (std::size_t i = 0; i < layers.size(); ++i) {
        EXPECT_EQ(layers[i].at("mediaType"), "application/vnd.oci.image.layer.v1.tar");
        const std::string data = blob(layers[i]);
        EXPECT_EQ(diffIds[i], sha256(data)) << "expected diff id " << i + 1 << " its tar's digest";
        if (i == 3) top = data;
    }
    EXPECT_EQ(diffIds[3], layersOf("committed").back())
        << "expected the committed layer's diff id as the store has it";
    const TarContents layer = readTar(top);
    const std::set<std::string> names(layer.names.begin(), layer.names.end());
    EXPECT_EQ(names.count("data/.wh.gone"), 1u) << "expected the whiteout as data/.wh.gone";
    EXPECT_EQ(names.count("data/dir/.wh..wh..opq"), 1u)
        << "expected the opaque directory marked data/dir/.wh..wh..opq";
    EXPECT_EQ(names.count("data/gone"), 0u) << "expected no device for the whiteout";
}

}  // namespace
}  // namespace mydocker::test
