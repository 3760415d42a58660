#include "mydocker/scope_guard.hpp"

#include "mydocker/log.hpp"

namespace mydocker {

ScopeGuard::~ScopeGuard() {
    if (!undo_) return;
    try {
        undo_();
    } catch (const std::exception& e) {
        // An undo runs while another error is already on its way up (or at a normal
        // exit): report this one too, but never replace the first.
        log::write(log::Level::error, fmt::format("cleanup failed: {}", e.what()));
    }
}

}  // namespace mydocker
