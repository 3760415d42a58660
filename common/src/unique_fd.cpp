#include "mydocker/unique_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "mydocker/error.hpp"

namespace mydocker {

Pipe makePipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw SysError("pipe2");
    return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace mydocker
