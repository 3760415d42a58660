// Lab 07: a `-p` value, as `docker run -p` reads it: [HOSTIP:]HOSTPORT:CTRPORT[/tcp|/udp].
//
//     8080:80               every address of the host, TCP port 8080 -> the container's 80
//     127.0.0.1:8080:80     only 127.0.0.1
//     5353:53/udp           UDP
#include <fmt/format.h>

#include <string>
#include <string_view>

#include "mydocker/error.hpp"
#include "mydocker/portmap.hpp"

namespace mydocker::portmap {
namespace {

/// The highest port number: ports are 16 bits, and 0 means "any" to bind(2), never a port.
constexpr unsigned kMaxPort = 65535;
/// The longest decimal port ("65535").
constexpr std::size_t kMaxPortDigits = 5;

/// The error for `-p text`, with what is wrong.
UsageError invalid(std::string_view text, const std::string& why) {
    return UsageError(fmt::format("invalid -p {} ({})", quoted(text), why));
}

}  // namespace

PortMapping parsePortMapping(std::string_view text) {
    // Hints:
    // - A port: 1 to 5 decimal digits, 1..65535 (no sign, no spaces: std::stoi would take them).
    // - The protocol: after the last '/'.
    // - The container's port: after the last ':'. Without one, Docker would pick a host
    //   port at random: this runtime asks for it.
    // - The host's port, and before it the host's address if there is one.
    todo("TODO (lab 07): parse [HOSTIP:]HOSTPORT:CTRPORT[/tcp|/udp]: ports 1-65535, a dotted-quad HOSTIP, tcp by default", text, kMaxPort, kMaxPortDigits, invalid);
}

}  // namespace mydocker::portmap
