// Lab 10's given code: one line of a container's log, in Docker's json-file format.
#include <nlohmann/json.hpp>

#include "mydocker/runtime.hpp"

namespace mydocker::runtime {

std::string formatLogEntry(Stream stream, std::string_view text, const std::string& time) {
    // ordered_json: Docker's key order, so the file reads as Docker's does.
    const nlohmann::ordered_json entry = {
        {"log", std::string(text)},
        {"stream", stream == Stream::stdout ? "stdout" : "stderr"},
        {"time", time},
    };
    // A container's output need not be UTF-8: replace what is not, rather than throw.
    return entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace mydocker::runtime
