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
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <fmt/format.h>
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
TEST_F(Lab05Contract, EntryNamesAreCheckedAndReadAufsStyle) {
    points(6);
    using overlay::EntryRole;
    const std::vector<std::pair<std::string, std::string>> canonical = {
        {"etc/motd", "etc/motd"}, {"./etc//motd", "etc/motd"}, {"usr/bin/", "usr/bin"},
        {"./", ""},               {".", ""},                   {"a/./b/.", "a/b"},
        {"..foo/bar", "..foo/bar"},
    };
    for (const auto& [name, expected] : canonical) {
        EXPECT_EQ(overlay::normalizeEntryPath(name), expected) << "for the entry name \"" << name << "\"";
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
        EXPECT_TRUE(found == expected) << "for \"" << name << "\": expected role "
                                       << static_cast<int>(expected.role) << " on \"" << expected.path
                                       << "\", found role " << static_cast<int>(found.role) << " on \""
                                       << found.path << "\"";
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
TEST_F(Lab05Contract, OverlayOptionsStackTheLayersTopFirstInOnePage) {
    points(6);
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
TEST_F(Lab05Import, WhiteoutsAndOpaqueDirectoriesAreOverlaysOnDisk) {
    points(8);
    TestImage image;
    image.layers.push_back(makeTar({TarEntry::dir("etc"), TarEntry::file("etc/motd", "hello\n"),
                                    TarEntry::file("etc/keep", "kept\n"), TarEntry::dir("var"),
                                    TarEntry::dir("var/cache"), TarEntry::file("var/cache/a", "a"),
                                    TarEntry::file("var/cache/b", "b")}));
    image.layers.push_back(makeTar({TarEntry::dir("etc"), TarEntry::file("etc/.wh.motd", ""),
                                    TarEntry::dir("var/cache"),
                                    TarEntry::file("var/cache/.wh..wh..opq", ""),
                                    TarEntry::file("var/cache/c", "c"),
                                    TarEntry::file(".wh..wh.plnk", ""),
                                    TarEntry::file(".wh.gone-dir", "")}));
    importHere(archiveFile(dockerSaveArchive(image)), "whiteouts");

    const std::string top = layerDirOf(root(), image.layers[1]);
    const struct stat motd = lstatOf(joinPath(top, "etc/motd"));
    EXPECT_TRUE(S_ISCHR(motd.st_mode) && motd.st_rdev == makedev(0, 0))
        << "expected etc/motd in the top layer to be overlay's whiteout, a 0/0 character device "
           "(mode " << std::oct << motd.st_mode << std::dec << ", rdev " << major(motd.st_rdev) << ":"
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
    EXPECT_EQ(readFile(joinPath(bottom, "etc/motd")), "hello\n") << "the lower layer keeps its file";
}

// The same image in a `docker save` archive (plain, and gzip-compressed whole) and in an
// OCI layout (gzip and zstd layers) imports to the same layers, the same config and the
// same image id.
TEST_F(Lab05Import, DockerSaveAndOciArchivesImportToTheSameLayersAndConfig) {
    points(8);
    TestImage image;
    image.layers.push_back(busyboxLayer());
    image.layers.push_back(makeTar({TarEntry::dir("app"), TarEntry::file("app/run.sh", "#!/bin/sh\necho hi\n", 0755)}));
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
        const image::Image found = image::loadImage(root(), image::parseReference(archives[i].first));
        EXPECT_EQ(found.layers, diffIds) << archives[i].first << ": expected the layers' digests, bottom first";
        EXPECT_EQ(found.config.env, image.env) << archives[i].first;
        EXPECT_EQ(found.config.cmd, image.cmd) << archives[i].first;
        EXPECT_EQ(found.config.entrypoint, image.entrypoint) << archives[i].first;
        EXPECT_EQ(found.config.workingDir, image.workingDir) << archives[i].first;
        EXPECT_EQ(found.id, sha256(image.config())) << archives[i].first << ": the id is the config's digest";
    }
    // One directory per layer, shared by the four images.
    std::vector<std::string> expected;
    for (const auto& layer : image.layers) expected.push_back(layerDirOf(root(), layer).substr(root().size() + 8));
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(listDir(joinPath(root(), "layers")), expected) << "expected one directory per layer, shared";
    EXPECT_EQ(readFile(joinPath(layerDirOf(root(), image.layers[1]), "app/run.sh")), "#!/bin/sh\necho hi\n");
    EXPECT_TRUE(S_ISREG(lstatOf(joinPath(layerDirOf(root(), image.layers[0]), "bin/busybox")).st_mode));
}

// What a layer says about its files survives: numeric owners (no name lookup), setuid,
// setgid and sticky modes, hard links, a file capability, symlinks, a fifo, a device node,
// mtimes to the nanosecond (directories' too).
TEST_F(Lab05Import, ModesOwnersLinksCapabilitiesAndTimesSurvive) {
    points(8);
    // security.capability, VFS_CAP_REVISION_2 with cap_net_bind_service (10) permitted and
    // effective: what `setcap cap_net_bind_service+ep` writes.
    const std::string capability("\x01\x00\x00\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 20);
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
    const std::string layer = makeTar({TarEntry::dir("usr"), TarEntry::dir("usr/bin"), setuid, setgid,
                                       ping, TarEntry::hardlink("usr/bin/su-link", "usr/bin/su"),
                                       TarEntry::symlink("usr/bin/sh", "/bin/busybox"), tmp, owned,
                                       forged, fifo, null});
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
    EXPECT_EQ(lstatOf(joinPath(dir, "usr/bin/su-link")).st_ino, lstatOf(joinPath(dir, "usr/bin/su")).st_ino)
        << "expected the hard link to be the same inode";
    EXPECT_EQ(lstatOf(joinPath(dir, "usr/bin/su")).st_nlink, 2u);
    EXPECT_EQ(xattrOf(joinPath(dir, "usr/bin/ping"), "security.capability"), capability)
        << "expected the file capability to survive (set after chown, which clears it)";
    EXPECT_EQ(xattrOf(joinPath(dir, "usr/bin/ping"), "user.note"), "kept");
    EXPECT_EQ(xattrOf(joinPath(dir, "forged"), "trusted.overlay.opaque"), "")
        << "expected overlay's own xattrs from a tar to be dropped (only .wh..wh..opq makes opaque)";
    char target[64] = {};
    EXPECT_GT(::readlink(joinPath(dir, "usr/bin/sh").c_str(), target, sizeof target - 1), 0);
    EXPECT_STREQ(target, "/bin/busybox") << "a symlink keeps its target as text";
    const struct stat fifoStat = lstatOf(joinPath(dir, "run/fifo"));
    EXPECT_TRUE(S_ISFIFO(fifoStat.st_mode)) << "a fifo";
    EXPECT_EQ(fifoStat.st_mode & 07777, 0620u);
    const struct stat nullStat = lstatOf(joinPath(dir, "dev/null"));
    EXPECT_TRUE(S_ISCHR(nullStat.st_mode) && nullStat.st_rdev == makedev(1, 3)) << "a device node 1:3";
}

// Hostile tars: a name that climbs out ("../x"), an absolute name, a symlink to a host
// directory followed by an entry through it, a hard link to the host's /etc/passwd. Each
// is refused, writes nothing outside the store, and leaves nothing in it.
TEST_F(Lab05Import, HostileTarsAreRefusedAndLeaveNothing) {
    points(10);
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
        {"a name with ..", {TarEntry::file("etc/ok", "ok"), TarEntry::file(climb + outsideRelative + "/dotdot", "x")}},
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
                EXPECT_TRUE(why.find("unsafe") != std::string::npos && why.find("TODO") == std::string::npos)
                    << c.what << form << ": expected an error naming the unsafe path, found: " << why;
            }
            EXPECT_TRUE(listDir(outside).empty())
                << c.what << form << ": expected nothing written outside the store, found "
                << ::testing::PrintToString(listDir(outside));
            EXPECT_TRUE(rootEntries().empty())
                << c.what << form << ": expected nothing left in the store, found "
                << ::testing::PrintToString(rootEntries());
            EXPECT_EQ(readFile("/etc/passwd"), passwd) << c.what << form << ": /etc/passwd changed!";
            // The host's /etc/passwd must not have gained a link either.
            EXPECT_EQ(lstatOf("/etc/passwd").st_nlink, passwdLinks) << c.what << form;
        }
    }
}

}  // namespace
}  // namespace mydocker::test
