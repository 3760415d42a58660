// Lab 08: which xattrs of an upper directory's entry go into a layer.
//
// overlayfs writes its own bookkeeping into the upper dir as trusted.overlay.* xattrs
// (Documentation/filesystems/overlayfs.rst): `origin` (a file handle of the lower file a
// copy-up came from), `impure`, `redirect`, `nlink`, `metacopy`, `uuid`, ... They describe
// this one mount's layers; in an image they would point at nothing or at the wrong file.
// Only `opaque` says something about the layer itself: this directory hides the ones below.
#include <sys/xattr.h>

#include <cerrno>
#include <string>
#include <vector>

#include "mydocker/commit.hpp"
#include "mydocker/error.hpp"
#include "mydocker/overlay.hpp"

namespace mydocker::commit {
namespace {

/// The xattr names of `path` (not following a symlink), as llistxattr(2) lists them.
std::vector<std::string> xattrNames(const std::string& path) {
    for (;;) {
        const ssize_t size = ::llistxattr(path.c_str(), nullptr, 0);
        if (size < 0) throw SysError("llistxattr", path);
        std::string buffer(static_cast<std::size_t>(size), '\0');
        const ssize_t n = ::llistxattr(path.c_str(), buffer.data(), buffer.size());
        if (n < 0 && errno == ERANGE) continue;  // one was added meanwhile: ask again
        if (n < 0) throw SysError("llistxattr", path);
        std::vector<std::string> names;
        // A list of NUL-terminated names, one after the other.
        for (std::size_t start = 0; start < static_cast<std::size_t>(n);) {
            const std::size_t end = buffer.find('\0', start);
            names.push_back(buffer.substr(start, end - start));
            start = end + 1;
        }
        return names;
    }
}

/// The value of xattr `name` of `path` (not following a symlink).
std::string xattrValue(const std::string& path, const std::string& name) {
    for (;;) {
        const ssize_t size = ::lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
        if (size < 0) throw SysError("lgetxattr " + name, path);
        std::string value(static_cast<std::size_t>(size), '\0');
        const ssize_t n = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
        if (n < 0 && errno == ERANGE) continue;
        if (n < 0) throw SysError("lgetxattr " + name, path);
        value.resize(static_cast<std::size_t>(n));
        return value;
    }
}

}  // namespace

bool keepsXattr(std::string_view name) {
    todo("TODO (lab 08): keep every xattr but overlay's private ones (trusted.overlay.*), except trusted.overlay.opaque", name);
}

void copyXattrs(int fromDirFd, int toDirFd, const std::string& name) {
    const std::string from = pathIn(fromDirFd, name);
    const std::string to = pathIn(toDirFd, name);
    for (const std::string& xattr : xattrNames(from)) {
        if (!keepsXattr(xattr)) continue;
        const std::string value = xattrValue(from, xattr);
        if (::lsetxattr(to.c_str(), xattr.c_str(), value.data(), value.size(), 0) != 0) {
            throw SysError("lsetxattr " + xattr, to);
        }
    }
}

}  // namespace mydocker::commit
