#include "hardening.hpp"

#include "mydocker/error.hpp"
#include "mydocker/runtime.hpp"
#include "mydocker/seccomp.hpp"

namespace mydocker::driver {

void hardenProcess() {
    withContext("load the seccomp filter", [] { seccomp::loadDefaultFilter(); });
    withContext("drop capabilities",
                [] { runtime::dropCapabilities(runtime::defaultCapabilities()); });
}

}  // namespace mydocker::driver
