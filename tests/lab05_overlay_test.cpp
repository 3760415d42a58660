// Lab 05's graded tests: an image store of layers, and containers on overlayfs.
//
// The checklist of the lab, one test each. First the store, through the contract and the
// given import code (no container): names read safely and AUFS's way; overlay's options;
// layers on disk in overlay's format (0/0 whiteouts, opaque xattrs); `docker save` and
// OCI archives alike; what a layer must keep (modes, owners, links, capabilities, times);
// hostile tars refused with nothing left. Then the runtime: `import`, `images`, `rmi` and
// `run IMAGE`, judged by the container's mountinfo, the files of the store and of the
// container's upper directory, and inode numbers.
//
// Every archive is written by the test itself with libarchive (lab05_support.hpp).
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "lab05_support.hpp"
#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/image.hpp"
#include "mydocker/overlay.hpp"
#include "mydocker/unique_fd.hpp"
#include "support/lab_test.hpp"

namespace mydocker::test {
namespace {

/// The value of xattr `name` on `path` (not following a symlink), or "" if it has none.
std::string xattrOf(const std::string& path, const std::string& name) {
    char value[256];
    const ssize_t n = ::lgetxattr(path.c_str(), name.c_str(), value, sizeof value);
    return n < 0 ? std::string() : std::string(value, static_cast<std::size_t>(n));
}

/// lstat(2) of `path`; st_mode 0 if it does not exist.
struct stat lstatOf(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) st.st_mode = 0;
    return st;
}

/// Every path below `dir` (relative), recursively.
std::vector<std::string> treeOf(const std::string& dir, const std::string& prefix = "") {
    std::vector<std::string> found;
    for (const auto& name : listDir(dir)) {
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

class Lab05Test : public LabTest {
  protected:
    /// Imports `archive` (a file) as `name` through the given code and lab 05's walk, in
    /// this process.
    image::Image importHere(const std::string& archive, const std::string& name) {
        return image::importArchive(root(), archive, image::parseReference(name),
                                    overlay::extractLayer);
    }

    /// Writes `bytes` to a new file and returns its path.
    std::string archiveFile(const std::string& bytes, const std::string& name = "image.tar") {
        const std::string path = joinPath(makeTempDir(), name);
        writeBytes(path, bytes);
        return path;
    }
};

// --- the contract, unit by unit ---------------------------------------------------------------

class Lab05Contract : public Lab05Test {};

// Names are checked before they are paths: absolute and ".." refused, the rest made
// canonical; the AUFS markers are read as whiteouts, opaque markers or ignored.
GRADED_TEST_F(Lab05Contract, EntryNamesAreCheckedAndReadAufsStyle, 5) {
    using overlay::EntryRole;
    const std::vector<std::pair<std::string, std::string>> canonical = {
        {"etc/motd", "etc/motd"},
        {"./etc//motd", "etc/motd"},
        {"usr/bin/", "usr/bin"},
        {"./", ""},
        {".", ""},
        {"a/./b/.", "a/b"},
        {"..foo/bar", "..foo/bar"},
    };
    for (const auto& [name, expected] : canonical) {
        EXPECT_EQ(overlay::normalizeEntryPath(name), expected)
            << "for the entry name \"" << name << "\"";
    }
    for (const std::string hostile : {"/etc/passwd", "../x", "a/../../x", "a/..", "/", "./../x"}) {
        EXPECT_THROW(overlay::normalizeEntryPath(hostile), UsageError)
            << "expected the entry name \"" << hostile << "\" to be refused";
    }
    const std::vector<std::pair<std::string, overlay::LayerPath>> roles = {
        {"etc/.wh.motd", {EntryRole::whiteout, "etc/motd"}},
        {".wh.opt", {EntryRole::whiteout, "opt"}},
        {"./var/cache/.wh..wh..opq", {EntryRole::opaque, "var/cache"}},
        {".wh..wh..opq", {EntryRole::opaque, ""}},
        {"usr/.wh..wh.plnk", {EntryRole::ignored, "usr/.wh..wh.plnk"}},
        {"usr/bin/env", {EntryRole::file, "usr/bin/env"}},
        {"etc/wh.motd", {EntryRole::file, "etc/wh.motd"}},
    };
    for (const auto& [name, expected] : roles) {
        const overlay::LayerPath found = overlay::classifyEntry(name);
        EXPECT_TRUE(found == expected)
            << "for \"" << name << "\": expected role " << static_cast<int>(expected.role)
            << " on \"" << expected.path << "\", found role " << static_cast<int>(found.role)
            << " on \"" << found.path << "\"";
    }
    for (const std::string hostile : {"../.wh.x", "etc/.wh.", "etc/.wh..", "/.wh.x"}) {
        EXPECT_THROW(overlay::classifyEntry(hostile), UsageError)
            << "expected the entry name \"" << hostile << "\" to be refused";
    }
}

// The overlay's options: lowerdir lists the layers topmost first by short names (each a
// link, in the container's link directory, to its layer), then upperdir, workdir and the
// three options that keep upper a plain diff; 100 layers fit in a page; the plan changes
// to the link directory, then mounts overlay on the target.
GRADED_TEST_F(Lab05Contract, OverlayOptionsStackTheLayersTopFirstInOnePage, 5) {
    const std::string dir = makeTempDir();
    overlay::OverlaySpec spec;
    for (int i = 0; i < 100; ++i) {
        spec.layers.push_back(joinPath(dir, fmt::format("{:064x}", i)));
        makeDirs(spec.layers.back());
    }
    spec.linkDir = joinPath(dir, "links");
    spec.upperDir = joinPath(dir, "upper");
    spec.workDir = joinPath(dir, "work");
    spec.target = joinPath(dir, "rootfs");
    makeDirs(spec.linkDir);

    overlay::makeLayerLinks(spec);
    const std::string options = overlay::overlayOptions(spec);
    EXPECT_LE(options.size(), overlay::kMaxMountDataSize) << options;

    std::vector<std::string> parts;
    std::string lower;
    for (std::size_t start = 0; start <= options.size();) {
        const std::size_t end = std::min(options.find(',', start), options.size());
        const std::string part = options.substr(start, end - start);
        if (part.rfind("lowerdir=", 0) == 0) lower = part.substr(9);
        parts.push_back(part);
        start = end + 1;
    }
    for (const std::string& expected :
         {"upperdir=" + spec.upperDir, "workdir=" + spec.workDir, std::string("redirect_dir=off"),
          std::string("index=off"), std::string("metacopy=off")}) {
        EXPECT_NE(std::find(parts.begin(), parts.end(), expected), parts.end())
            << "expected \"" << expected << "\" among the options: " << options;
    }
    std::vector<std::string> lowers;
    for (std::size_t start = 0; start <= lower.size();) {
        const std::size_t end = std::min(lower.find(':', start), lower.size());
        lowers.push_back(lower.substr(start, end - start));
        start = end + 1;
    }
    ASSERT_EQ(lowers.size(), spec.layers.size()) << "lowerdir=" << lower;
    for (std::size_t i = 0; i < lowers.size(); ++i) {
        const std::string& name = lowers[i];
        const std::string path = name.front() == '/' ? name : joinPath(spec.linkDir, name);
        char resolved[PATH_MAX];
        ASSERT_NE(::realpath(path.c_str(), resolved), nullptr) << "lowerdir entry " << name;
        EXPECT_EQ(std::string(resolved), spec.layers[spec.layers.size() - 1 - i])
            << "expected lowerdir entry " << i << " (\"" << name << "\") to be layer "
            << spec.layers.size() - 1 - i << ": the topmost layer comes first";
    }

    const auto plan = overlay::planOverlay(spec);
    ASSERT_EQ(plan.size(), 2u);
    EXPECT_TRUE(plan[0] == rootfs::MountStep::changeDir(spec.linkDir)) << rootfs::describe(plan[0]);
    EXPECT_TRUE(plan[1] == rootfs::MountStep::mount("overlay", spec.target, "overlay", 0, options))
        << rootfs::describe(plan[1]);
}

// --- the store: import through the given code and the lab's walk -------------------------------

class Lab05Import : public Lab05Test {};

// A whiteout becomes a 0/0 character device, an opaque marker the xattr
// trusted.overlay.opaque=y on its directory; no ".wh." file is left in the layer.
GRADED_TEST_F(Lab05Import, WhiteoutsAndOpaqueDirectoriesAreOverlaysOnDisk, 6) {
    TestImage image;
    image.layers.push_back(makeTar({TarEntry::dir("etc"), TarEntry::file("etc/motd", "hello\n"),
                                    TarEntry::file("etc/keep", "kept\n"), TarEntry::dir("var"),
                                    TarEntry::dir("var/cache"), TarEntry::file("var/cache/a", "a"),
                                    TarEntry::file("var/cache/b", "b")}));
    image.layers.push_back(makeTar(
        {TarEntry::dir("etc"), TarEntry::file("etc/.wh.motd", ""), TarEntry::dir("var/cache"),
         TarEntry::file("var/cache/.wh..wh..opq", ""), TarEntry::file("var/cache/c", "c"),
         TarEntry::file(".wh..wh.plnk", ""), TarEntry::file(".wh.gone-dir", "")}));
    importHere(archiveFile(dockerSaveArchive(image)), "whiteouts");

    const std::string top = layerDirOf(root(), image.layers[1]);
    const struct stat motd = lstatOf(joinPath(top, "etc/motd"));
    EXPECT_TRUE(S_ISCHR(motd.st_mode) && motd.st_rdev == makedev(0, 0))
        << "expected etc/motd in the top layer to be overlay's whiteout, a 0/0 character device "
           "(mode "
        << std::oct << motd.st_mode << std::dec << ", rdev " << major(motd.st_rdev) << ":"
        << minor(motd.st_rdev) << ")";
    const struct stat gone = lstatOf(joinPath(top, "gone-dir"));
    EXPECT_TRUE(S_ISCHR(gone.st_mode) && gone.st_rdev == makedev(0, 0))
        << "expected gone-dir in the top layer to be a 0/0 character device";
    EXPECT_EQ(xattrOf(joinPath(top, "var/cache"), "trusted.overlay.opaque"), "y")
        << "expected var/cache in the top layer to be opaque (trusted.overlay.opaque=y)";
    EXPECT_EQ(xattrOf(joinPath(top, "etc"), "trusted.overlay.opaque"), "")
        << "expected etc not to be opaque";
    for (const auto& path : treeOf(top)) {
        EXPECT_EQ(path.find(".wh."), std::string::npos)
            << "expected no AUFS marker left in the layer, found " << path;
    }
    EXPECT_EQ(readFile(joinPath(top, "var/cache/c")), "c");
    const std::string bottom = layerDirOf(root(), image.layers[0]);
    EXPECT_EQ(readFile(joinPath(bottom, "etc/motd")), "hello\n")
        << "the lower layer keeps its file";
}

// The same image in a `docker save` archive (plain, and gzip-compressed whole) and in an
// OCI layout (gzip and zstd layers) imports to the same layers, the same config and the
// same image id.
GRADED_TEST_F(Lab05Import, DockerSaveAndOciArchivesImportToTheSameLayersAndConfig, 8) {
    TestImage image;
    image.layers.push_back(busyboxLayer());
    image.layers.push_back(makeTar(
        {TarEntry::dir("app"), TarEntry::file("app/run.sh", "#!/bin/sh\necho hi\n", 0755)}));
    image.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "GREETING=hello"};
    image.cmd = {"/app/run.sh", "--now"};
    image.entrypoint = {"/bin/sh"};
    image.workingDir = "/app";

    const std::vector<std::pair<std::string, std::string>> archives = {
        {"docker", dockerSaveArchive(image)},
        {"docker-gz", dockerSaveArchive(image, Compression::gzip)},
        {"oci-gz", ociArchive(image, Compression::gzip)},
        {"oci-zstd", ociArchive(image, Compression::zstd)},
    };
    std::vector<image::Image> imported;
    for (const auto& [name, bytes] : archives) {
        imported.push_back(importHere(archiveFile(bytes, name + ".tar"), name));
    }
    const std::vector<std::string> diffIds = image.diffIds();
    for (std::size_t i = 0; i < imported.size(); ++i) {
        const image::Image found =
            image::loadImage(root(), image::parseReference(archives[i].first));
        EXPECT_EQ(found.layers, diffIds)
            << archives[i].first << ": expected the layers' digests, bottom first";
        EXPECT_EQ(found.config.env, image.env) << archives[i].first;
        EXPECT_EQ(found.config.cmd, image.cmd) << archives[i].first;
        EXPECT_EQ(found.config.entrypoint, image.entrypoint) << archives[i].first;
        EXPECT_EQ(found.config.workingDir, image.workingDir) << archives[i].first;
        EXPECT_EQ(found.id, sha256(image.config()))
            << archives[i].first << ": the id is the config's digest";
    }
    // One directory per layer, shared by the four images.
    std::vector<std::string> expected;
    for (const auto& layer : image.layers)
        expected.push_back(layerDirOf(root(), layer).substr(root().size() + 8));
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(listDir(joinPath(root(), "layers")), expected)
        << "expected one directory per layer, shared";
    EXPECT_EQ(readFile(joinPath(layerDirOf(root(), image.layers[1]), "app/run.sh")),
              "#!/bin/sh\necho hi\n");
    EXPECT_TRUE(
        S_ISREG(lstatOf(joinPath(layerDirOf(root(), image.layers[0]), "bin/busybox")).st_mode));
}

// What a layer says about its files survives: numeric owners (no name lookup), setuid,
// setgid and sticky modes, hard links, a file capability, symlinks, a fifo, a device node,
// mtimes to the nanosecond (directories' too).
GRADED_TEST_F(Lab05Import, ModesOwnersLinksCapabilitiesAndTimesSurvive, 8) {
    // security.capability, VFS_CAP_REVISION_2 with cap_net_bind_service (10) permitted and
    // effective: what `setcap cap_net_bind_service+ep` writes.
    const std::string capability(
        "\x01\x00\x00\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 20);
    TarEntry setuid = TarEntry::file("usr/bin/su", "#!/bin/true\n", 04755);
    TarEntry setgid = TarEntry::file("usr/bin/wall", "#!/bin/true\n", 02755);
    setgid.gid = 5;
    TarEntry tmp = TarEntry::dir("tmp", 01777);
    tmp.mtime = 1600000000;
    tmp.mtimeNsec = 123456789;
    TarEntry owned = TarEntry::file("home/app/data", "data", 0640);
    owned.uid = 4242;
    owned.gid = 4343;
    owned.mtime = 1500000000;
    owned.mtimeNsec = 987654321;
    TarEntry ping = TarEntry::file("usr/bin/ping", "#!/bin/true\n", 0755);
    ping.xattrs = {{"security.capability", capability}, {"user.note", "kept"}};
    TarEntry forged = TarEntry::dir("forged");
    forged.xattrs = {{"trusted.overlay.opaque", "y"}};
    TarEntry fifo;
    fifo.path = "run/fifo";
    fifo.type = TarEntry::Type::fifo;
    fifo.mode = 0620;
    TarEntry null;
    null.path = "dev/null";
    null.type = TarEntry::Type::chr;
    null.mode = 0666;
    null.major = 1;
    null.minor = 3;
    const std::string layer =
        makeTar({TarEntry::dir("usr"), TarEntry::dir("usr/bin"), setuid, setgid, ping,
                 TarEntry::hardlink("usr/bin/su-link", "usr/bin/su"),
                 TarEntry::symlink("usr/bin/sh", "/bin/busybox"), tmp, owned, forged, fifo, null});
    importHere(archiveFile(layer), "metadata");
    const std::string dir = layerDirOf(root(), layer);

    EXPECT_EQ(lstatOf(joinPath(dir, "usr/bin/su")).st_mode & 07777, 04755u) << "setuid kept";
    EXPECT_EQ(lstatOf(joinPath(dir, "usr/bin/wall")).st_mode & 07777, 02755u) << "setgid kept";
    EXPECT_EQ(lstatOf(joinPath(dir, "usr/bin/wall")).st_gid, 5u);
    EXPECT_EQ(lstatOf(joinPath(dir, "tmp")).st_mode & 07777, 01777u) << "sticky /tmp kept";
    const struct stat data = lstatOf(joinPath(dir, "home/app/data"));
    EXPECT_EQ(data.st_uid, 4242u) << "numeric owner kept";
    EXPECT_EQ(data.st_gid, 4343u) << "numeric group kept";
    EXPECT_EQ(data.st_mode & 07777, 0640u);
    EXPECT_EQ(data.st_mtim.tv_sec, 1500000000) << "mtime kept";
    EXPECT_EQ(data.st_mtim.tv_nsec, 987654321) << "mtime's nanoseconds kept";
    const struct stat tmpStat = lstatOf(joinPath(dir, "tmp"));
    EXPECT_EQ(tmpStat.st_mtim.tv_sec, 1600000000) << "a directory's mtime is set after its entries";
    EXPECT_EQ(lstatOf(joinPath(dir, "usr/bin/su-link")).st_ino,
              lstatOf(joinPath(dir, "usr/bin/su")).st_ino)
        << "expected the hard link to be the same inode";
    EXPECT_EQ(lstatOf(joinPath(dir, "usr/bin/su")).st_nlink, 2u);
    EXPECT_EQ(xattrOf(joinPath(dir, "usr/bin/ping"), "security.capability"), capability)
        << "expected the file capability to survive (set after chown, which clears it)";
    EXPECT_EQ(xattrOf(joinPath(dir, "usr/bin/ping"), "user.note"), "kept");
    EXPECT_EQ(xattrOf(joinPath(dir, "forged"), "trusted.overlay.opaque"), "")
        << "expected overlay's own xattrs from a tar to be dropped (only .wh..wh..opq makes "
           "opaque)";
    char target[64] = {};
    EXPECT_GT(::readlink(joinPath(dir, "usr/bin/sh").c_str(), target, sizeof target - 1), 0);
    EXPECT_STREQ(target, "/bin/busybox") << "a symlink keeps its target as text";
    const struct stat fifoStat = lstatOf(joinPath(dir, "run/fifo"));
    EXPECT_TRUE(S_ISFIFO(fifoStat.st_mode)) << "a fifo";
    EXPECT_EQ(fifoStat.st_mode & 07777, 0620u);
    const struct stat nullStat = lstatOf(joinPath(dir, "dev/null"));
    EXPECT_TRUE(S_ISCHR(nullStat.st_mode) && nullStat.st_rdev == makedev(1, 3))
        << "a device node 1:3";
}

// Hostile tars: a name that climbs out ("../x"), an absolute name, a symlink to a host
// directory followed by an entry through it, a hard link to the host's /etc/passwd. Each
// is refused, writes nothing outside the store, and leaves nothing in it.
GRADED_TEST_F(Lab05Import, HostileTarsAreRefusedAndLeaveNothing, 8) {
    const std::string outside = makeTempDir();  // where an escape would land
    const std::string passwd = readFile("/etc/passwd");
    const nlink_t passwdLinks = lstatOf("/etc/passwd").st_nlink;
    const std::string outsideRelative = outside.substr(1);  // "var/tmp/..." for "../../.." names
    struct Case {
        std::string what;
        std::vector<TarEntry> entries;
    };
    std::string climb;
    for (int i = 0; i < 20; ++i) climb += "../";
    const std::vector<Case> cases = {
        {"a name with ..",
         {TarEntry::file("etc/ok", "ok"),
          TarEntry::file(climb + outsideRelative + "/dotdot", "x")}},
        {"an absolute name", {TarEntry::file(outside + "/absolute", "x")}},
        {"a write through a symlink",
         {TarEntry::symlink("link", outside), TarEntry::file("link/through-symlink", "x")}},
        {"a write through a relative symlink",
         {TarEntry::dir("a"), TarEntry::symlink("a/up", "../../../../../../../../../.."),
          TarEntry::file("a/up/" + outsideRelative + "/through-relative", "x")}},
        {"a hard link to /etc/passwd", {TarEntry::hardlink("passwd", "/etc/passwd")}},
        {"a hard link climbing out", {TarEntry::hardlink("passwd", climb + "etc/passwd")}},
    };
    for (const Case& c : cases) {
        for (const bool layered : {false, true}) {
            const std::string tar = makeTar(c.entries);
            TestImage image;
            image.layers = {tar};
            const std::string archive = archiveFile(layered ? dockerSaveArchive(image) : tar);
            const std::string form = layered ? " (in a docker save archive)" : " (a flat tar)";
            try {
                importHere(archive, "hostile");
                ADD_FAILURE() << c.what << form << ": expected the import to be refused";
            } catch (const UsageError& e) {
                const std::string why = e.what();
                EXPECT_TRUE(why.find("unsafe") != std::string::npos &&
                            why.find("TODO (lab ") == std::string::npos)
                    << c.what << form
                    << ": expected an error naming the unsafe path, found: " << why;
            }
            EXPECT_TRUE(listDir(outside).empty())
                << c.what << form << ": expected nothing written outside the store, found "
                << ::testing::PrintToString(listDir(outside));
            EXPECT_TRUE(rootEntries().empty())
                << c.what << form << ": expected nothing left in the store, found "
                << ::testing::PrintToString(rootEntries());
            EXPECT_EQ(readFile("/etc/passwd"), passwd)
                << c.what << form << ": /etc/passwd changed!";
            // The host's /etc/passwd must not have gained a link either.
            EXPECT_EQ(lstatOf("/etc/passwd").st_nlink, passwdLinks) << c.what << form;
        }
    }
}

// --- the runtime: import, run IMAGE, images, rmi ----------------------------------------------

/// One option of a mount's comma-separated options, "" if absent ("lowerdir" -> "3:2:1").
std::string optionValue(const std::string& options, const std::string& key) {
    for (std::size_t start = 0; start <= options.size();) {
        const std::size_t end = std::min(options.find(',', start), options.size());
        const std::string option = options.substr(start, end - start);
        if (option.rfind(key + "=", 0) == 0) return option.substr(key.size() + 1);
        start = end + 1;
    }
    return {};
}

std::vector<std::string> splitOn(const std::string& text, char separator) {
    std::vector<std::string> parts;
    for (std::size_t start = 0; start <= text.size();) {
        const std::size_t end = std::min(text.find(separator, start), text.size());
        parts.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

/// realpath(3), or "" if `path` does not resolve.
std::string resolved(const std::string& path) {
    char buffer[PATH_MAX];
    return ::realpath(path.c_str(), buffer) == nullptr ? std::string() : std::string(buffer);
}

class Lab05Run : public Lab05Test {
  protected:
    void TearDown() override {
        held_.clear();  // before the leak check: their runtimes must have ended
        Lab05Test::TearDown();
    }

    /// An image of busybox, the probe and `extra` layers on top, and its config.
    static TestImage probeImage(const std::vector<std::string>& extra = {}) {
        TestImage image;
        image.layers = {busyboxLayer(), probeLayer()};
        image.layers.insert(image.layers.end(), extra.begin(), extra.end());
        return image;
    }

    /// `import` of `image` as a `docker save` archive; the test stops if it fails.
    void importImage(const TestImage& image, const std::string& name) {
        const RunResult r = lab({"import", archiveFile(dockerSaveArchive(image)), name});
        ASSERT_EQ(r.exitCode, 0) << "expected the import to succeed" << r;
    }

    /// `run [flags] IMAGE CMD...`, held alive until the test releases it (by default CMD is
    /// the probe holding the FIFO of the probe layer).
    HeldImage& hold(const std::string& image, std::vector<std::string> command = {},
                    const std::vector<std::string>& flags = {}) {
        if (command.empty()) command = {"/probe", "hold", kHoldFifo};
        std::vector<std::string> argv = {labBinary(), "--root", root(), "run"};
        argv.insert(argv.end(), flags.begin(), flags.end());
        argv.push_back(image);
        argv.insert(argv.end(), command.begin(), command.end());
        held_.push_back(std::make_unique<HeldImage>(argv, makeTempDir()));
        return *held_.back();
    }

    /// The one container under --root (the tests run one at a time, or name them by order).
    std::vector<std::string> containerIds() const {
        const std::string dir = joinPath(root(), "containers");
        return isDirectory(dir) ? listDir(dir) : std::vector<std::string>{};
    }
    std::string containerDirOf(const std::string& id) const {
        return joinPath(joinPath(root(), "containers"), id);
    }

    /// The container's root mount, from its own mountinfo.
    static std::optional<MountInfo> rootMountOf(pid_t pid) {
        return findMount(mountInfo(pid), "/");
    }

  private:
    std::vector<std::unique_ptr<HeldImage>> held_;
};

// The container's "/" is an overlay mount in its own mount namespace: its lowerdirs are
// the image's layers, topmost first; its upperdir is under the container's directory.
// The host's mount table never shows it, during or after.
GRADED_TEST_F(Lab05Run, RootIsAnOverlayOfTheImageLayersTopFirst, 8) {
    const TestImage image = probeImage({makeTar({TarEntry::file("top", "top layer")})});
    importImage(image, "stack");
    const auto before = mountInfo();
    HeldImage& held = hold("stack");
    ASSERT_TRUE(held.started());
    const auto ids = containerIds();
    ASSERT_EQ(ids.size(), 1u);
    const std::string dir = containerDirOf(ids.front());

    const auto rootMount = rootMountOf(held.hostPid());
    ASSERT_TRUE(rootMount.has_value());
    EXPECT_EQ(rootMount->fsType, "overlay")
        << "expected the container's / to be overlay: " << rootMount->describe();
    const auto lowers = splitOn(optionValue(rootMount->superOptions, "lowerdir"), ':');
    ASSERT_EQ(lowers.size(), image.layers.size()) << "lowerdir of " << rootMount->superOptions;
    for (std::size_t i = 0; i < lowers.size(); ++i) {
        // A short name is relative to the container's link directory, lower/.
        const std::string path =
            lowers[i].front() == '/' ? lowers[i] : joinPath(joinPath(dir, "lower"), lowers[i]);
        const std::string expected = layerDirOf(root(), image.layers[image.layers.size() - 1 - i]);
        EXPECT_EQ(resolved(path), expected)
            << "expected lowerdir entry " << i << " (\"" << lowers[i] << "\") to be layer "
            << image.layers.size() - i << " of " << image.layers.size() << ": the topmost first";
    }
    const std::string upper = optionValue(rootMount->superOptions, "upperdir");
    EXPECT_EQ(resolved(upper), joinPath(dir, "upper"))
        << "expected the upper dir in the container's directory";
    EXPECT_EQ(resolved(optionValue(rootMount->superOptions, "workdir")), joinPath(dir, "work"));
    EXPECT_EQ(readFile(fmt::format("/proc/{}/root/top", held.hostPid())), "top layer");

    for (const auto& m : newHostMounts()) {
        ADD_FAILURE() << "expected no new mount on the host while the container runs, found "
                      << m.describe();
    }
    const RunResult r = held.wait();
    EXPECT_EQ(r.exitCode, 0) << r;
    EXPECT_TRUE(newHostMounts().empty())
        << "expected the host's mount table unchanged after the run";
}

// Copy-on-write: a file of the image written in the container is copied to the upper dir
// and changed there, its layer's copy untouched; a deleted one becomes a 0/0 whiteout in
// the upper dir and is gone inside.
GRADED_TEST_F(Lab05Run, WritesGoToTheUpperDirAndLayersNeverChange, 8) {
    const std::string data =
        makeTar({TarEntry::dir("data"), TarEntry::file("data/file", "original\n"),
                 TarEntry::file("data/gone", "soon gone\n")});
    importImage(probeImage({data}), "cow");
    const std::string layer = layerDirOf(root(), data);
    const std::string layerHash = sha256(readFile(joinPath(layer, "data/file")));

    HeldImage& held =
        hold("cow", {"/bin/sh", "-c",
                     "echo changed > /data/file && rm /data/gone && exec /probe hold /hold.fifo"});
    ASSERT_TRUE(held.started());
    const auto ids = containerIds();
    ASSERT_EQ(ids.size(), 1u);
    const std::string upper = joinPath(containerDirOf(ids.front()), "upper");
    const std::string inside = fmt::format("/proc/{}/root", held.hostPid());

    EXPECT_EQ(readFile(inside + "/data/file"), "changed\n") << "the container sees its write";
    EXPECT_EQ(sha256(readFile(joinPath(layer, "data/file"))), layerHash)
        << "expected the layer's data/file unchanged (copy-on-write)";
    EXPECT_EQ(readFile(joinPath(upper, "data/file")), "changed\n")
        << "expected the changed file copied up to the upper dir";
    const struct stat whiteout = lstatOf(joinPath(upper, "data/gone"));
    EXPECT_TRUE(S_ISCHR(whiteout.st_mode) && whiteout.st_rdev == makedev(0, 0))
        << "expected the deleted file to be a 0/0 character device in the upper dir";
    EXPECT_EQ(lstatOf(inside + "/data/gone").st_mode, 0u)
        << "expected data/gone absent in the container";
    EXPECT_EQ(readFile(joinPath(layer, "data/gone")), "soon gone\n")
        << "expected the layer's copy kept";
    EXPECT_EQ(held.wait().exitCode, 0);
}

// Two containers of one image read the same files of its layers (the same inodes, so the
// same page cache), and neither sees what the other writes.
GRADED_TEST_F(Lab05Run, ContainersShareTheLayersButNotTheirWrites, 7) {
    importImage(probeImage(), "shared");
    HeldImage& a =
        hold("shared", {"/bin/sh", "-c", "echo a > /tmp/mine-a && exec /probe hold /hold.fifo"});
    ASSERT_TRUE(a.started());
    HeldImage& b =
        hold("shared", {"/bin/sh", "-c", "echo b > /tmp/mine-b && exec /probe hold /hold.fifo"});
    ASSERT_TRUE(b.started());
    const std::string layerBusybox = joinPath(layerDirOf(root(), busyboxLayer()), "bin/busybox");
    const ino_t inA = lstatOf(fmt::format("/proc/{}/root/bin/busybox", a.hostPid())).st_ino;
    const ino_t inB = lstatOf(fmt::format("/proc/{}/root/bin/busybox", b.hostPid())).st_ino;
    EXPECT_EQ(inA, inB) << "expected both containers' /bin/busybox to be the same inode";
    EXPECT_EQ(inA, lstatOf(layerBusybox).st_ino) << "expected it to be the layer's file";
    EXPECT_EQ(lstatOf(fmt::format("/proc/{}/root/tmp/mine-b", a.hostPid())).st_mode, 0u)
        << "container a sees b's write";
    EXPECT_EQ(lstatOf(fmt::format("/proc/{}/root/tmp/mine-a", b.hostPid())).st_mode, 0u)
        << "container b sees a's write";
    EXPECT_EQ(readFile(fmt::format("/proc/{}/root/tmp/mine-a", a.hostPid())), "a\n");
    EXPECT_EQ(lstatOf(joinPath(layerDirOf(root(), busyboxLayer()), "tmp/mine-a")).st_mode, 0u)
        << "expected nothing written into the layer";
    EXPECT_EQ(a.wait().exitCode, 0);
    EXPECT_EQ(b.wait().exitCode, 0);
}

// A hand-made two-layer image looks inside as Docker shows it: the file deleted by
// ".wh.motd" is gone, the directory made opaque by ".wh..wh..opq" and refilled shows
// only its new entries, the rest of the lower layer is still there.
GRADED_TEST_F(Lab05Run, WhiteoutsAndOpaqueDirectoriesHideTheLowerLayers, 6) {
    const std::string lower = makeTar(
        {TarEntry::dir("etc"), TarEntry::file("etc/motd", "hello\n"),
         TarEntry::file("etc/keep", "kept\n"), TarEntry::dir("var"), TarEntry::dir("var/cache"),
         TarEntry::file("var/cache/a", "a"), TarEntry::file("var/cache/b", "b")});
    const std::string upper =
        makeTar({TarEntry::file("etc/.wh.motd", ""), TarEntry::file("var/cache/.wh..wh..opq", ""),
                 TarEntry::file("var/cache/c", "c")});
    // The upper layer twice, as an image with two identical (empty-diff) steps has it:
    // `docker save` writes the second as a symlink, overlayfs refuses a directory twice.
    importImage(probeImage({lower, upper, upper}), "layered");
    const RunResult motd = lab({"run", "layered", "/probe", "ls", "/etc/motd"});
    ASSERT_EQ(motd.exitCode, 0) << motd;
    EXPECT_EQ(motd.value("exists"), "0") << "expected /etc/motd deleted by the upper layer" << motd;
    const RunResult keep = lab({"run", "layered", "/probe", "read", "/etc/keep"});
    EXPECT_EQ(keep.out, "kept\n") << "expected /etc/keep of the lower layer" << keep;
    const RunResult cache = lab({"run", "layered", "/probe", "ls", "/var/cache"});
    ASSERT_EQ(cache.exitCode, 0) << cache;
    EXPECT_EQ(cache.values("entry"), std::vector<std::string>{"c"})
        << "expected the opaque /var/cache to show only the upper layer's c" << cache;
}

// The image's config applies: its Env (its PATH too) and WorkingDir (made if missing),
// its Cmd when the command line has none, its Entrypoint before the command line's.
GRADED_TEST_F(Lab05Run, TheImageConfigApplies, 6) {
    TestImage withCmd = probeImage();
    withCmd.env = {"PATH=/bin:/custom/bin", "GREETING=hello world"};
    withCmd.cmd = {"/probe", "env"};
    withCmd.workingDir = "/work/dir";
    importImage(withCmd, "config");
    const RunResult env = lab({"run", "config"});
    ASSERT_EQ(env.exitCode, 0) << env;
    EXPECT_EQ(env.value("GREETING"), "hello world") << "expected the image's Env" << env;
    EXPECT_EQ(env.value("PATH"), "/bin:/custom/bin")
        << "expected the image's PATH to replace the default" << env;
    EXPECT_EQ(env.values("PATH").size(), 1u) << "expected PATH once" << env;
    const RunResult pwd = lab({"run", "config", "/bin/pwd"});
    EXPECT_EQ(pwd.out, "/work/dir\n") << "expected CMD to start in the image's WorkingDir" << pwd;

    TestImage withEntrypoint = probeImage();
    withEntrypoint.entrypoint = {"/probe"};
    withEntrypoint.cmd = {"hostname"};
    importImage(withEntrypoint, "entry:v1");
    const RunResult hostname = lab({"run", "--hostname", "box", "entry:v1"});
    EXPECT_EQ(hostname.value("hostname"), "box")
        << "expected Entrypoint + Cmd: /probe hostname" << hostname;
    const RunResult pid = lab({"run", "entry:v1", "pid"});
    EXPECT_EQ(pid.value("pid"), "1")
        << "expected Entrypoint + the command line's CMD: /probe pid" << pid;
}

// An image of 100 layers runs: the overlay's options still fit in one page.
GRADED_TEST_F(Lab05Run, AHundredLayersRun, 5) {
    std::vector<std::string> extra;
    for (int i = 1; i <= 98; ++i) {
        extra.push_back(makeTar({TarEntry::dir("layers"),
                                 TarEntry::file(fmt::format("layers/{}", i), std::to_string(i))}));
    }
    importImage(probeImage(extra), "hundred");
    const RunResult r = lab({"run", "hundred", "/probe", "mountinfo"});
    ASSERT_EQ(r.exitCode, 0) << r;
    const auto rootMount = findMount(parseMountInfo(r.out), "/");
    ASSERT_TRUE(rootMount.has_value()) << r;
    EXPECT_EQ(splitOn(optionValue(rootMount->superOptions, "lowerdir"), ':').size(), 100u)
        << "expected 100 lower layers: " << rootMount->superOptions;
    const RunResult ls = lab({"run", "hundred", "/probe", "ls", "/layers"});
    EXPECT_EQ(ls.values("entry").size(), 98u) << "expected a file from each of the 98 layers" << ls;
}

// Once the container ends nothing is left of it but its record: no upper, work or link
// directory, no mount. A runtime killed with SIGKILL leaves no mount on the host either
// (the overlay was its child's), and the next command removes what it left.
GRADED_TEST_F(Lab05Run, NothingIsLeftWhenTheContainerEnds, 6) {
    importImage(probeImage(), "ends");
    const RunResult r = lab({"run", "ends", "/bin/sh", "-c", "echo x > /written"});
    ASSERT_EQ(r.exitCode, 0) << r;
    auto ids = containerIds();
    ASSERT_EQ(ids.size(), 1u);
    EXPECT_EQ(listDir(containerDirOf(ids.front())), std::vector<std::string>{"state.json"})
        << "expected only the record left of the container";
    EXPECT_TRUE(newHostMounts().empty());

    HeldImage& held = hold("ends");
    ASSERT_TRUE(held.started());
    held.killRuntime();
    EXPECT_TRUE(newHostMounts().empty())
        << "expected no mount on the host after the runtime was killed";
    const RunResult next = lab({"images"});
    EXPECT_EQ(next.exitCode, 0) << next;
    for (const auto& id : containerIds()) {
        EXPECT_EQ(listDir(containerDirOf(id)), std::vector<std::string>{"state.json"})
            << "expected the next command to remove what the killed runtime left of " << id;
    }
}

// `images` lists every image as `docker images` does; `rmi` removes an image and the
// layers no other image has, and keeps the shared ones.
GRADED_TEST_F(Lab05Run, ImagesListsThemAndRmiRemovesUnsharedLayers, 5) {
    const TestImage first = probeImage({makeTar({TarEntry::file("first", "1")})});
    const TestImage second = probeImage({makeTar({TarEntry::file("second", "2")})});
    importImage(first, "first");
    importImage(second, "second:v2");
    const RunResult flat = lab({"import", joinPath(buildDir(), "images/busybox.tar"), "flat"});
    ASSERT_EQ(flat.exitCode, 0) << flat;
    // The build's busybox in four layers, the last deleting /etc/motd.
    const RunResult layered =
        lab({"import", joinPath(buildDir(), "images/busybox-layered.tar"), "busybox"});
    ASSERT_EQ(layered.exitCode, 0) << layered;
    const RunResult sh =
        lab({"run", "busybox", "/bin/sh", "-c", "test ! -e /etc/motd && grep -c root /etc/passwd"});
    EXPECT_EQ(sh.out, "1\n") << "expected the layered busybox to run, its /etc/motd deleted" << sh;

    const RunResult images = lab({"images"});
    ASSERT_EQ(images.exitCode, 0) << images;
    const auto lines = images.outLines();
    ASSERT_EQ(lines.size(), 5u) << images;
    const auto columns = [](const std::string& line) {
        std::vector<std::string> cells;
        std::istringstream words(line);
        for (std::string word; words >> word;) cells.push_back(word);
        return cells;
    };
    EXPECT_EQ(lines.front().substr(0, 10), "REPOSITORY") << images;
    for (const std::string heading : {"TAG", "IMAGE ID", "CREATED", "SIZE"}) {
        EXPECT_NE(lines.front().find(heading), std::string::npos) << images;
    }
    bool sawSecond = false;
    for (const auto& line : lines) {
        const auto cells = columns(line);
        if (cells.size() >= 3 && cells[0] == "second") {
            sawSecond = true;
            EXPECT_EQ(cells[1], "v2") << images;
            EXPECT_EQ(cells[2], sha256(second.config()).substr(7, 12))
                << "expected the short image id" << images;
        }
    }
    EXPECT_TRUE(sawSecond) << images;

    const RunResult rmi = lab({"rmi", "first"});
    ASSERT_EQ(rmi.exitCode, 0) << rmi;
    EXPECT_FALSE(pathExists(layerDirOf(root(), first.layers[2])))
        << "expected first's own layer removed";
    EXPECT_TRUE(isDirectory(layerDirOf(root(), busyboxLayer())))
        << "expected the shared layer kept";
    EXPECT_TRUE(isDirectory(layerDirOf(root(), second.layers[2])));
    const RunResult after = lab({"images"});
    EXPECT_EQ(after.outLines().size(), 4u) << after;
    const RunResult inUse = lab({"rmi", "busybox"});
    EXPECT_EQ(inUse.exitCode, 125) << "expected busybox kept: a stopped container has it" << inUse;
    for (const std::string name : {"second:v2", "flat"}) {
        EXPECT_EQ(lab({"rmi", name}).exitCode, 0);
    }
    const auto layers = listDir(joinPath(root(), "layers"));
    EXPECT_EQ(layers.size(), 4u) << "expected only busybox's four layers left: "
                                 << ::testing::PrintToString(layers);
}

// rmi refuses an image a container uses, running or stopped; -f removes it from a stopped
// container (whose record stays until lab 10's rm), never from a running one.
GRADED_TEST_F(Lab05Run, RmiRefusesAnImageInUse, 4) {
    importImage(probeImage(), "busy");
    HeldImage& held = hold("busy");
    ASSERT_TRUE(held.started());
    const RunResult running = lab({"rmi", "busy"});
    EXPECT_EQ(running.exitCode, 125)
        << "expected rmi refused while a container runs the image" << running;
    expectOneErrorLine(running, "busy");
    const RunResult forced = lab({"rmi", "-f", "busy"});
    EXPECT_EQ(forced.exitCode, 125)
        << "expected rmi -f refused while a container runs the image" << forced;
    EXPECT_EQ(held.wait().exitCode, 0);
    const RunResult stopped = lab({"rmi", "busy"});
    EXPECT_EQ(stopped.exitCode, 125)
        << "expected rmi refused while a stopped container has the image" << stopped;
    EXPECT_TRUE(pathExists(joinPath(root(), "images/busy:latest.json")))
        << "expected the image kept";
    const RunResult forcedStopped = lab({"rmi", "-f", "busy"});
    EXPECT_EQ(forcedStopped.exitCode, 0)
        << "expected rmi -f to remove the image of a stopped container" << forcedStopped;
    EXPECT_FALSE(pathExists(joinPath(root(), "images/busy:latest.json")))
        << "expected the image gone after rmi -f";
}

// Bad input: 125, one line naming the problem, and nothing changed in the store.
GRADED_TEST_F(Lab05Run, BadInputIsRefusedAndChangesNothing, 5) {
    importImage(probeImage(), "good");
    const std::string busybox = busyboxLayer();
    const std::string dir = makeTempDir();
    const auto file = [&](const std::string& name, const std::string& bytes) {
        const std::string path = joinPath(dir, name);
        writeBytes(path, bytes);
        return path;
    };
    const std::string empty = file("empty.tar", "");
    const std::string truncated = file("truncated.tar", busybox.substr(0, busybox.size() / 2));
    const std::string text = file("text.tar", "this is not a tar archive, only text.\n");
    const std::string hostile = file("hostile.tar", makeTar({TarEntry::file("../../escape", "x")}));
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"import", joinPath(dir, "missing.tar"), "x"}, "missing.tar"},
        {{"import", empty, "x"}, "empty"},
        {{"import", truncated, "x"}, "truncated.tar"},
        {{"import", text, "x"}, "text.tar"},
        {{"import", hostile, "x"}, "unsafe"},
        {{"import", text, "a/b"}, "image name"},
        {{"import", text, "Upper"}, "image name"},
        {{"import", text, "good"}, "already in use"},
        {{"run", "nosuch"}, "unknown image"},
        {{"run", "Bad/Name", "/bin/true"}, "image name"},
        {{"rmi", "nosuch"}, "unknown image"},
    };
    const auto before = rootEntries();
    for (const auto& [args, topic] : cases) {
        const RunResult r = lab(args);
        EXPECT_EQ(r.exitCode, 125) << r;
        expectOneErrorLine(r, topic);
        EXPECT_EQ(rootEntries(), before) << "expected the store unchanged" << r;
        EXPECT_TRUE(newHostMounts().empty()) << r;
    }
}

}  // namespace
}  // namespace mydocker::test
