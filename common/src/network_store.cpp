// The networks' records (network_store.hpp) and the address types of network.hpp:
// given code.
#include "mydocker/network_store.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <nlohmann/json.hpp>

#include "mydocker/error.hpp"
#include "mydocker/file.hpp"

namespace mydocker::network {
namespace {

// ordered_json keeps the keys in the order written: a person reads the file too.
using json = nlohmann::ordered_json;

constexpr const char* kVersionKey = "version";
constexpr const char* kLockName = ".lock";
constexpr const char* kRecordSuffix = ".json";
constexpr int kOctets = 4;
constexpr unsigned kMaxOctet = 255;
constexpr int kMaxPrefix = 32;
constexpr int kBitsPerOctet = 8;

/// Parses a decimal number of at most `max`, the whole of `text`.
std::optional<unsigned> parseNumber(std::string_view text, unsigned max) {
    unsigned value = 0;
    if (text.empty() || text.size() > 3) return std::nullopt;
    const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (err != std::errc() || end != text.data() + text.size() || value > max) return std::nullopt;
    return value;
}

std::string recordPath(const std::string& root, const std::string& name) {
    return joinPath(networksDir(root), name + kRecordSuffix);
}

}  // namespace

// --- Ipv4 and Subnet -----------------------------------------------------------------

std::string Ipv4::str() const {
    return fmt::format("{}.{}.{}.{}", value >> 24, (value >> 16) & 0xff, (value >> 8) & 0xff,
                       value & 0xff);
}

Ipv4 parseIpv4(std::string_view text) {
    std::uint32_t value = 0;
    std::string_view rest = text;
    for (int i = 0; i < kOctets; ++i) {
        const auto dot = rest.find('.');
        const bool last = i == kOctets - 1;
        if (last != (dot == std::string_view::npos)) {
            throw UsageError(
                fmt::format("invalid IPv4 address {} (expected A.B.C.D)", quoted(text)));
        }
        const auto octet = parseNumber(rest.substr(0, dot), kMaxOctet);
        if (!octet) {
            throw UsageError(fmt::format(
                "invalid IPv4 address {} (each part is a number of 0 to 255)", quoted(text)));
        }
        value = (value << kBitsPerOctet) | *octet;
        rest = last ? std::string_view() : rest.substr(dot + 1);
    }
    return Ipv4{value};
}

std::uint64_t Subnet::size() const {
    return std::uint64_t{1} << (kMaxPrefix - prefix);
}

std::uint32_t Subnet::mask() const {
    return prefix == 0 ? 0 : ~std::uint32_t{0} << (kMaxPrefix - prefix);
}

Ipv4 Subnet::broadcast() const {
    return Ipv4{network.value | ~mask()};
}

bool Subnet::contains(Ipv4 address) const {
    return (address.value & mask()) == network.value;
}

bool Subnet::overlaps(const Subnet& other) const {
    return contains(other.network) || other.contains(network);
}

std::string Subnet::str() const {
    return fmt::format("{}/{}", network.str(), prefix);
}

Subnet parseSubnet(std::string_view text) {
    const auto slash = text.find('/');
    if (slash == std::string_view::npos) {
        throw UsageError(fmt::format("invalid subnet {} (expected CIDR A.B.C.D/N)", quoted(text)));
    }
    Subnet subnet;
    try {
        subnet.network = parseIpv4(text.substr(0, slash));
    } catch (const UsageError&) {
        throw UsageError(
            fmt::format("invalid subnet {} (not an IPv4 address before the /)", quoted(text)));
    }
    const auto prefix = parseNumber(text.substr(slash + 1), kMaxPrefix);
    if (!prefix) {
        throw UsageError(
            fmt::format("invalid subnet {} (the prefix length is 0 to 32)", quoted(text)));
    }
    subnet.prefix = static_cast<int>(*prefix);
    if ((subnet.network.value & ~subnet.mask()) != 0) {
        throw UsageError(
            fmt::format("invalid subnet {} (host bits set: did you mean {}?)", quoted(text),
                        Subnet{Ipv4{subnet.network.value & subnet.mask()}, subnet.prefix}.str()));
    }
    return subnet;
}

// --- records -------------------------------------------------------------------------

std::string networksDir(const std::string& root) {
    return joinPath(root, "networks");
}

std::string toJson(const NetworkRecord& record) {
    json allocated = json::object();
    for (const auto& [address, id] : record.allocated) allocated[address.str()] = id;
    const json document = {
        {kVersionKey, kNetworkRecordVersion},
        {"name", record.name},
        {"bridge", record.bridge},
        {"subnet", record.subnet.str()},
        {"gateway", record.gateway.str()},
        {"allocated", allocated},
    };
    return document.dump(2) + "\n";
}

NetworkRecord networkFromJson(const std::string& text, const std::string& where) {
    try {
        const json document = json::parse(text);
        const int version = document.at(kVersionKey).get<int>();
        if (version != kNetworkRecordVersion) {
            throw Error(
                fmt::format("corrupt network file {} (format version {}, this runtime reads {})",
                            where, version, kNetworkRecordVersion));
        }
        NetworkRecord record;
        document.at("name").get_to(record.name);
        document.at("bridge").get_to(record.bridge);
        record.subnet = parseSubnet(document.at("subnet").get<std::string>());
        record.gateway = parseIpv4(document.at("gateway").get<std::string>());
        for (const auto& [address, id] : document.at("allocated").items()) {
            record.allocated[parseIpv4(address)] = id.get<std::string>();
        }
        return record;
    } catch (const json::exception& e) {
        std::string why = e.what();
        if (const auto bracket = why.find("] "); bracket != std::string::npos) {
            why = why.substr(bracket + 2);
        }
        throw Error(fmt::format("corrupt network file {} ({})", where, why));
    } catch (const UsageError& e) {
        throw Error(fmt::format("corrupt network file {} ({})", where, e.message()));
    }
}

std::optional<NetworkRecord> loadNetwork(const std::string& root, const std::string& name) {
    const std::string path = recordPath(root, name);
    if (!pathExists(path)) return std::nullopt;
    return networkFromJson(readFile(path), path);
}

void saveNetwork(const std::string& root, const NetworkRecord& record) {
    makeDirs(networksDir(root), 0700);
    writeFileAtomic(recordPath(root, record.name), toJson(record));
}

void removeNetworkRecord(const std::string& root, const std::string& name) {
    const std::string path = recordPath(root, name);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw SysError("unlink", path);
}

std::vector<NetworkRecord> listNetworks(const std::string& root) {
    std::vector<NetworkRecord> records;
    if (!isDirectory(networksDir(root))) return records;
    for (const std::string& file : listDir(networksDir(root))) {
        if (!file.ends_with(kRecordSuffix) || file.starts_with(".")) continue;
        const std::string name =
            file.substr(0, file.size() - std::string_view(kRecordSuffix).size());
        if (auto record = loadNetwork(root, name)) records.push_back(std::move(*record));
    }
    std::sort(records.begin(), records.end(),
              [](const NetworkRecord& a, const NetworkRecord& b) { return a.name < b.name; });
    return records;
}

NetworkLock::NetworkLock(const std::string& root) {
    makeDirs(networksDir(root), 0700);
    const std::string path = joinPath(networksDir(root), kLockName);
    fd_ = UniqueFd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd_) throw SysError("open", path);
    while (::flock(fd_.get(), LOCK_EX) != 0) {
        if (errno != EINTR) throw SysError("flock", path);
    }
}

}  // namespace mydocker::network
