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
    // BEGIN SOLUTION: todo("TODO (lab 07): parse [HOSTIP:]HOSTPORT:CTRPORT[/tcp|/udp]: ports 1-65535, a dotted-quad HOSTIP, tcp by default", text, kMaxPort, kMaxPortDigits, invalid);
    // A port: 1 to 5 decimal digits, 1..65535 (no sign, no spaces: std::stoi would take them).
    const auto port = [&](std::string_view digits, const char* which) -> std::uint16_t {
        if (digits.empty() || digits.size() > kMaxPortDigits ||
            digits.find_first_not_of("0123456789") != std::string_view::npos) {
            throw invalid(text, fmt::format("{} must be a number from 1 to {}", which, kMaxPort));
        }
        const unsigned value = static_cast<unsigned>(std::stoul(std::string(digits)));
        if (value == 0 || value > kMaxPort) {
            throw invalid(text, fmt::format("{} {} is out of range 1-{}", which, value, kMaxPort));
        }
        return static_cast<std::uint16_t>(value);
    };

    PortMapping mapping;
    std::string_view rest = text;
    // The protocol: after the last '/'.
    if (const auto slash = rest.rfind('/'); slash != std::string_view::npos) {
        const std::string_view protocol = rest.substr(slash + 1);
        if (protocol == "tcp") {
            mapping.protocol = Protocol::tcp;
        } else if (protocol == "udp") {
            mapping.protocol = Protocol::udp;
        } else {
            throw invalid(text, "the protocol must be tcp or udp");
        }
        rest = rest.substr(0, slash);
    }
    // The container's port: after the last ':'. Without one, Docker would pick a host
    // port at random: this runtime asks for it.
    const auto lastColon = rest.rfind(':');
    if (lastColon == std::string_view::npos) {
        throw invalid(text, "expected HOSTPORT:CTRPORT, with an optional HOSTIP: before");
    }
    mapping.containerPort = port(rest.substr(lastColon + 1), "the container port");
    rest = rest.substr(0, lastColon);
    // The host's port, and before it the host's address if there is one.
    const auto colon = rest.rfind(':');
    mapping.hostPort =
        port(rest.substr(colon == std::string_view::npos ? 0 : colon + 1), "the host port");
    if (colon != std::string_view::npos) {
        try {
            mapping.hostIp = network::parseIpv4(rest.substr(0, colon));
        } catch (const UsageError&) {
            throw invalid(text, "the host IP must be an IPv4 address such as 127.0.0.1");
        }
    }
    return mapping;
    // END SOLUTION
}

}  // namespace mydocker::portmap
