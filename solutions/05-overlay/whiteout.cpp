// Lab 05: overlay's own markers, written where a layer tar has AUFS's.
//
// overlayfs looks for them in every lower layer (Documentation/filesystems/overlayfs.rst):
// a character device with device number 0/0 hides the file of that name in the layers
// below; a directory with the xattr trusted.overlay.opaque=y hides the directories of
// its name below, so that it shows only its own entries.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <cstring>

#include "mydocker/error.hpp"
#include "mydocker/overlay.hpp"

namespace mydocker::overlay {

void makeWhiteout(int dirFd, const std::string& name) {
    // BEGIN SOLUTION: todo("TODO (lab 05): create overlay's whiteout: a character device 0/0 named `name` in dirFd (mknodat)", dirFd, name);
    // mknod(2) of a character device needs CAP_MKNOD: the runtime has it as root.
    if (::mknodat(dirFd, name.c_str(), S_IFCHR, makedev(0, 0)) != 0) {
        throw SysError("mknodat", name);
    }
    // END SOLUTION
}

void markOpaque(int dirFd) {
    // BEGIN SOLUTION: todo("TODO (lab 05): mark the directory dirFd opaque: fsetxattr trusted.overlay.opaque=y", dirFd);
    // trusted.* xattrs need CAP_SYS_ADMIN: no user can forge one on their own files.
    if (::fsetxattr(dirFd, kOpaqueXattr, kOpaqueValue, std::strlen(kOpaqueValue), 0) != 0) {
        throw SysError("fsetxattr", kOpaqueXattr);
    }
    // END SOLUTION
}

}  // namespace mydocker::overlay
