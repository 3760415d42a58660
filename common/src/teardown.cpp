#include "mydocker/teardown.hpp"

#include <fmt/format.h>

#include "mydocker/log.hpp"

namespace mydocker {

Teardown& Teardown::operator=(Teardown&& other) noexcept {
    if (this != &other) {
        run();
        undos_ = std::exchange(other.undos_, {});
    }
    return *this;
}

Teardown::~Teardown() {
    run();
}

void Teardown::add(std::string name, std::function<void()> undo) {
    undos_.emplace_back(std::move(name), std::move(undo));
}

int Teardown::run() noexcept {
    int failures = 0;
    // Last done, first undone: the cgroup goes after the process in it, the container's
    // directory after everything that lives in it.
    while (!undos_.empty()) {
        auto [name, undo] = std::move(undos_.back());
        undos_.pop_back();
        try {
            log::debug("undo: {}", name);
            undo();
        } catch (const std::exception& e) {
            // Keep going: one undo that fails must not leave the others' state behind.
            ++failures;
            log::write(log::Level::error, fmt::format("undo of \"{}\" failed: {}", name, e.what()));
        }
    }
    return failures;
}

}  // namespace mydocker
