// The verb `network` (lab 06): `network create [--subnet CIDR] [--gateway IP] NAME`,
// `network ls`, `network rm NAME`; and the network side of `run` (network.hpp).
//
// A network is, on the host:
//   - a bridge `md<10 hex digits>` (a hash of the --root and the name: two roots never
//     share one; never an interface the runtime did not create), with a fixed MAC and
//     the gateway's address;
//   - its rules, each tagged `mydocker:<bridge>`: in filter MYDOCKER-FORWARD, its
//     traffic accepted (even where FORWARD's policy is DROP) but towards the runtime's
//     other bridges (Docker's isolation); in nat MYDOCKER-POSTROUTING, its subnet
//     masqueraded when it leaves by another interface;
//   - ip_forward on while any network exists (its old value kept in /run/mydocker);
//   - its record, `<root>/networks/<name>.json`, with the addresses it gave out.
// What is host-wide (the chains, their jumps, ip_forward, the choice of a free subnet)
// is changed under a flock(2) on the ip_forward sysctl itself: every runtime, whatever
// its --root, takes it, and it leaves no file behind.
#include "network.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <functional>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <vector>

#include "lab.hpp"
#include "mydocker/config.hpp"
#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/iptables.hpp"
#include "mydocker/log.hpp"
#include "mydocker/netlink.hpp"
#include "mydocker/network_store.hpp"
#include "mydocker/state.hpp"
#include "mydocker/unique_fd.hpp"
#include "verbs.hpp"

namespace mydocker::driver {
namespace {

using network::Ipv4;
using network::NetworkRecord;
using network::Subnet;

/// The prefix of every interface the runtime creates.
constexpr const char* kLinkPrefix = "md";
/// Linux's limit on an interface name (IFNAMSIZ - 1).
constexpr std::size_t kMaxLinkName = 15;
/// Hex digits of the hash in a bridge's name: "md" + 10 = 12 characters.
constexpr std::size_t kBridgeHashDigits = 10;
/// Hex digits of the container id in its veth's name: "mdv" + 11 = 14 characters.
constexpr std::size_t kVethIdDigits = 11;
/// Docker's limit on a network's name.
constexpr std::size_t kMaxNetworkName = 64;

/// The default network.
constexpr const char* kDefaultNetwork = "bridge";
/// Where a network without --subnet gets its /24: the first one that overlaps no route
/// of the host and no other network (Docker's pools are 172.17-31.0.0/16 and
/// 192.168.0.0/16 in /20s; this kit's own range keeps clear of a Docker beside it).
constexpr const char* kDefaultPool = "172.29.0.0/16";
constexpr int kDefaultPrefix = 24;

/// The sysctl that lets the host route between its interfaces, and the lock of what is
/// host-wide (a flock(2) on a procfs file works like one on any file).
constexpr const char* kIpForward = "/proc/sys/net/ipv4/ip_forward";
/// Where the value of ip_forward before the first network is kept (a tmpfs: a reboot
/// resets ip_forward too).
constexpr const char* kRunDir = "/run/mydocker";
constexpr const char* kSavedIpForward = "/run/mydocker/ip_forward.before";

/// The runtime's chains, and the built-in chains that jump to them.
constexpr const char* kForwardChain = "MYDOCKER-FORWARD";
constexpr const char* kPostroutingChain = "MYDOCKER-POSTROUTING";
/// The owner (comment) of the jumps into the runtime's chains.
constexpr const char* kJumpOwner = "chains";

/// Docker's default nameservers, for a container whose host resolves through loopback
/// (systemd-resolved's 127.0.0.53 means nothing in the container's namespace).
constexpr std::array<const char*, 2> kFallbackNameservers = {"8.8.8.8", "8.8.4.4"};

/// Runs `undos` last first; a failing one is reported and the others still run.
void undoAll(std::vector<std::function<void()>>& undos) {
    for (auto undo = undos.rbegin(); undo != undos.rend(); ++undo) {
        try {
            (*undo)();
        } catch (const Error& e) {
            log::write(log::Level::error, fmt::format("undoing a half-made network: {}", e.what()));
        }
    }
    undos.clear();
}

// --- host-wide ---------------------------------------------------------------------------

std::vector<iptables::Rule> jumpRules() {
    return {
        {"filter", "FORWARD", {"-j", kForwardChain}, kJumpOwner},
        {"nat", "POSTROUTING", {"-j", kPostroutingChain}, kJumpOwner},
    };
}

/// The runtime's chains and the jumps to them, first in their built-in chains: so the
/// network's traffic is accepted before any DROP of the host's (Docker's, a firewall's).
void ensureChains() {
    iptables::ensureChain("filter", kForwardChain);
    iptables::ensureChain("nat", kPostroutingChain);
    for (const iptables::Rule& jump : jumpRules()) {
        if (!iptables::exists(jump)) iptables::insertFirst(jump);
    }
}

/// Undoes ensureChains() once the runtime's chains are empty (no network is left).
void removeChainsIfUnused() {
    if (!iptables::chainIsEmpty("filter", kForwardChain) ||
        !iptables::chainIsEmpty("nat", kPostroutingChain)) {
        return;
    }
    for (const iptables::Rule& jump : jumpRules()) iptables::remove(jump);
    iptables::deleteChainIfEmpty("filter", kForwardChain);
    iptables::deleteChainIfEmpty("nat", kPostroutingChain);
}

/// ip_forward on, its old value kept if it was off (the first network).
void turnOnForwarding() {
    const std::string before = readLine(kIpForward);
    if (before == "1") return;
    if (!pathExists(kSavedIpForward)) {
        makeDirs(kRunDir, 0700);
        writeFileAtomic(kSavedIpForward, before + "\n");
    }
    writeFile(kIpForward, "1\n");
}

/// ip_forward back to what it was before the first network, once none is left.
void restoreForwarding() {
    if (!pathExists(kSavedIpForward)) return;
    writeFile(kIpForward, readLine(kSavedIpForward) + "\n");
    if (::unlink(kSavedIpForward) != 0) throw SysError("unlink", kSavedIpForward);
    if (::rmdir(kRunDir) != 0 && errno != ENOTEMPTY && errno != ENOENT)
        throw SysError("rmdir", kRunDir);
}

/// True when any of the runtime's bridges exists on the host (any --root's).
bool anyBridgeLeft() {
    return !netlink::bridgesNamed(netlink::Socket::open(), kLinkPrefix).empty();
}

// --- one network -------------------------------------------------------------------------

/// FNV-1a, 64 bits: a short, stable name from a long one (not a security hash).
std::uint64_t fnv1a(std::string_view text) {
    constexpr std::uint64_t kOffset = 14695981039346656037ULL;
    constexpr std::uint64_t kPrime = 1099511628211ULL;
    std::uint64_t hash = kOffset;
    for (const char c : text) {
        hash ^= static_cast<unsigned char>(c);
        hash *= kPrime;
    }
    return hash;
}

std::string bridgeName(const std::string& root, const std::string& name) {
    const std::string hex = fmt::format("{:016x}", fnv1a(root + '\0' + name));
    return kLinkPrefix + hex.substr(0, kBridgeHashDigits);
}

/// The bridge's MAC: fixed (derived from its gateway), so it never changes as ports
/// come and go; `02:` makes it locally administered.
std::string bridgeMac(Ipv4 gateway) {
    const std::uint32_t a = gateway.value;
    return fmt::format("02:4d:{:02x}:{:02x}:{:02x}:{:02x}", a >> 24, (a >> 16) & 0xff,
                       (a >> 8) & 0xff, a & 0xff);
}

/// The rules of a network, as data (each tagged with the bridge's name).
std::vector<iptables::Rule> networkRules(const NetworkRecord& record) {
    const std::string& br = record.bridge;
    const std::string subnet = record.subnet.str();
    const std::string others = std::string(kLinkPrefix) + "+";
    return {
        // Between its containers (when bridged traffic passes iptables: br_netfilter).
        {"filter", kForwardChain, {"-i", br, "-o", br, "-j", "ACCEPT"}, br},
        // Isolation: never to another of the runtime's networks.
        {"filter", kForwardChain, {"-i", br, "-o", others, "-j", "DROP"}, br},
        // Out to the world, and the replies back in.
        {"filter", kForwardChain, {"-i", br, "-j", "ACCEPT"}, br},
        {"filter",
         kForwardChain,
         {"-o", br, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"},
         br},
        // Leaving by another interface, the subnet takes the host's address there.
        {"nat", kPostroutingChain, {"-s", subnet, "!", "-o", br, "-j", "MASQUERADE"}, br},
    };
}

/// Docker's names: a letter or digit, then letters, digits, '_', '.', '-'.
void validateNetworkName(const std::string& name) {
    static const std::regex pattern("[a-zA-Z0-9][a-zA-Z0-9_.-]*");
    if (name.empty() || name.size() > kMaxNetworkName || !std::regex_match(name, pattern)) {
        throw UsageError(fmt::format(
            "invalid network name {} (letters, digits, '_', '.' and '-', starting with a letter "
            "or digit, at most {} characters)",
            quoted(name), kMaxNetworkName));
    }
    if (name == "none" || name == "host") {
        throw UsageError(
            fmt::format("invalid network name {} (a predefined network mode)", quoted(name)));
    }
}

/// What `network create` was asked for, checked.
struct CreateRequest {
    std::string name;
    std::optional<Subnet> subnet;
    std::optional<Ipv4> gateway;
};

CreateRequest checkCreate(const std::string& name, const std::string& subnet,
                          const std::string& gateway) {
    CreateRequest request;
    validateNetworkName(name);
    request.name = name;
    if (!subnet.empty()) {
        request.subnet = network::parseSubnet(subnet);
        if (request.subnet->prefix < network::kShortestPrefix ||
            request.subnet->prefix > network::kLongestPrefix) {
            throw UsageError(fmt::format("invalid subnet {} (the prefix length must be {} to {})",
                                         quoted(subnet), network::kShortestPrefix,
                                         network::kLongestPrefix));
        }
    }
    if (!gateway.empty()) {
        if (!request.subnet) throw UsageError("--gateway needs --subnet (the subnet it is in)");
        request.gateway = network::parseIpv4(gateway);
        const Subnet& s = *request.subnet;
        if (!s.contains(*request.gateway) || *request.gateway == s.network ||
            *request.gateway == s.broadcast()) {
            throw UsageError(fmt::format("invalid gateway {} (not a host address of subnet {})",
                                         quoted(gateway), s.str()));
        }
    }
    return request;
}

/// What a new subnet must not overlap: the host's routes, and every network of this root.
std::vector<Subnet> subnetsInUse(const std::string& root) {
    std::vector<Subnet> used = netlink::routedSubnets(netlink::Socket::open());
    for (const NetworkRecord& record : network::listNetworks(root)) used.push_back(record.subnet);
    return used;
}

Subnet chooseSubnet(const std::string& root, const std::optional<Subnet>& asked) {
    const std::vector<Subnet> used = subnetsInUse(root);
    const auto overlapping = [&](const Subnet& candidate) -> std::optional<Subnet> {
        for (const Subnet& u : used) {
            if (u.overlaps(candidate)) return u;
        }
        return std::nullopt;
    };
    if (asked) {
        if (const auto other = overlapping(*asked)) {
            throw UsageError(
                fmt::format("subnet {} overlaps {} (a route of the host, or another network)",
                            asked->str(), other->str()));
        }
        return *asked;
    }
    const Subnet pool = network::parseSubnet(kDefaultPool);
    const std::uint32_t step = std::uint32_t{1} << (32 - kDefaultPrefix);
    for (std::uint64_t offset = 0; offset < pool.size(); offset += step) {
        const Subnet candidate{Ipv4{pool.network.value + static_cast<std::uint32_t>(offset)},
                               kDefaultPrefix};
        if (!overlapping(candidate)) return candidate;
    }
    throw Error(fmt::format("no free subnet left in {} (give one with --subnet)", kDefaultPool));
}

/// Creates network `request` (its bridge, address, rules; ip_forward) and records it.
/// Call with the networks' lock held.
NetworkRecord createNetwork(const std::string& root, const CreateRequest& request) {
    if (network::loadNetwork(root, request.name)) {
        throw UsageError(
            fmt::format("cannot create network {} (it exists already)", quoted(request.name)));
    }
    const HostLock hostLock;
    NetworkRecord record;
    record.name = request.name;
    record.subnet = chooseSubnet(root, request.subnet);
    record.gateway = request.gateway.value_or(Ipv4{record.subnet.network.value + 1});
    record.bridge = bridgeName(root, request.name);
    static_assert(2 + kBridgeHashDigits <= kMaxLinkName);

    const netlink::Socket sock = netlink::Socket::open();
    if (netlink::linkExists(sock, record.bridge)) {
        // Never take over an interface the runtime did not make for this network.
        throw UsageError(fmt::format("cannot create network {} (interface {} exists already)",
                                     quoted(request.name), record.bridge));
    }
    // A failure half-way undoes what was done, last first, and leaves nothing.
    std::vector<std::function<void()>> undos;
    try {
        netlink::createBridge(sock, record.bridge, bridgeMac(record.gateway));
        undos.emplace_back([&] { netlink::deleteLink(netlink::Socket::open(), record.bridge); });
        netlink::addAddress(sock, record.bridge, record.gateway, record.subnet);
        netlink::setUp(sock, record.bridge);
        ensureChains();
        undos.emplace_back([] { removeChainsIfUnused(); });
        for (const iptables::Rule& rule : networkRules(record)) {
            iptables::append(rule);
            undos.emplace_back([rule] { iptables::remove(rule); });
        }
        turnOnForwarding();
        undos.emplace_back([] {
            if (!anyBridgeLeft()) restoreForwarding();
        });
        network::saveNetwork(root, record);
    } catch (const Error&) {
        undoAll(undos);
        throw;
    }
    return record;
}

/// Removes network `name`: its rules, its bridge, its record; then what is host-wide if
/// it was the last network on the host. Call with the networks' lock held.
void removeNetwork(const std::string& root, const std::string& name) {
    const auto record = network::loadNetwork(root, name);
    if (!record) throw UsageError(fmt::format("no such network {} (see network ls)", quoted(name)));
    if (!record->allocated.empty()) {
        throw UsageError(fmt::format("network {} has {} container(s) (stop them first: {})",
                                     quoted(name), record->allocated.size(),
                                     shortId(record->allocated.begin()->second)));
    }
    const HostLock hostLock;
    const auto rules = networkRules(*record);
    for (auto rule = rules.rbegin(); rule != rules.rend(); ++rule) iptables::remove(*rule);
    const netlink::Socket sock = netlink::Socket::open();
    if (netlink::linkExists(sock, record->bridge)) netlink::deleteLink(sock, record->bridge);
    network::removeNetworkRecord(root, name);
    if (!anyBridgeLeft()) {
        removeChainsIfUnused();
        restoreForwarding();
    }
}

/// `network ls`: docker's columns, padded to the widest cell.
void printNetworks(const std::string& root) {
    std::vector<std::array<std::string, 4>> rows = {{"NAME", "SUBNET", "GATEWAY", "BRIDGE"}};
    for (const NetworkRecord& r : network::listNetworks(root)) {
        rows.push_back({r.name, r.subnet.str(), r.gateway.str(), r.bridge});
    }
    std::array<std::size_t, 4> widths{};
    for (const auto& row : rows) {
        for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
    }
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 3, ' ');
        }
        std::puts(line.c_str());
    }
}

/// The container's /etc/resolv.conf: the host's, with loopback nameservers dropped (they
/// mean nothing in the container's namespace) and Docker's defaults if none is left.
std::string containerResolvConf(NetMode mode) {
    const std::string host = pathExists("/etc/resolv.conf") ? readFile("/etc/resolv.conf") : "";
    if (mode == NetMode::host) return host;
    std::istringstream lines(host);
    std::string line;
    std::string out;
    bool nameserver = false;
    while (std::getline(lines, line)) {
        std::istringstream words(line);
        std::string key;
        std::string value;
        words >> key >> value;
        if (key == "nameserver") {
            if (value.starts_with("127.") || value == "::1") continue;
            nameserver = true;
        }
        out += line + "\n";
    }
    if (!nameserver) {
        for (const char* server : kFallbackNameservers)
            out += fmt::format("nameserver {}\n", server);
    }
    return out;
}

/// The container's /etc/hosts, as Docker writes it.
std::string containerHosts(const std::string& hostname, NetMode mode,
                           const Attachment* attachment) {
    if (mode == NetMode::host) {
        return pathExists("/etc/hosts") ? readFile("/etc/hosts") : "127.0.0.1\tlocalhost\n";
    }
    std::string hosts =
        "127.0.0.1\tlocalhost\n"
        "::1\tlocalhost ip6-localhost ip6-loopback\n"
        "fe00::0\tip6-localnet\n"
        "ff00::0\tip6-mcastprefix\n"
        "ff02::1\tip6-allnodes\n"
        "ff02::2\tip6-allrouters\n";
    if (attachment != nullptr) {
        hosts += fmt::format("{}\t{}\n", attachment->endpoint.address.str(), hostname);
    }
    return hosts;
}

}  // namespace

HostLock::HostLock() : fd_(::open(kIpForward, O_RDONLY | O_CLOEXEC)) {
    if (!fd_) throw SysError("open", kIpForward);
    while (::flock(fd_.get(), LOCK_EX) != 0) {
        if (errno != EINTR) throw SysError("flock", kIpForward);
    }
}

NetChoice checkNetFlag(const std::string& root, const std::string& value) {
    if (value == "none") return {NetMode::none, ""};
    if (value == "host") return {NetMode::host, ""};
    if (value == kDefaultNetwork) return {NetMode::bridge, kDefaultNetwork};
    validateNetworkName(value);
    if (!network::loadNetwork(root, value)) {
        throw UsageError(
            fmt::format("invalid --net {} (no such network: see network ls)", quoted(value)));
    }
    return {NetMode::bridge, value};
}

std::string hostVethName(const std::string& id) {
    static_assert(3 + kVethIdDigits <= kMaxLinkName);
    return "mdv" + id.substr(0, kVethIdDigits);
}

void removeHostVeth(const std::string& id) {
    const netlink::Socket sock = netlink::Socket::open();
    if (netlink::linkExists(sock, hostVethName(id))) netlink::deleteLink(sock, hostVethName(id));
}

Attachment allocateAddress(const std::string& root, const std::string& name,
                           const std::string& id) {
    const network::NetworkLock lock(root);
    auto record = network::loadNetwork(root, name);
    if (!record && name == kDefaultNetwork)
        record = createNetwork(root, CreateRequest{name, {}, {}});
    if (!record) throw UsageError(fmt::format("no such network {} (see network ls)", quoted(name)));
    std::set<Ipv4> taken;
    for (const auto& [address, holder] : record->allocated) taken.insert(address);
    const auto address = network::firstFreeAddress(
        record->subnet, network::addressBitmap(record->subnet, record->gateway, taken));
    if (!address) {
        throw Error(fmt::format("no free address in network {} (subnet {}: {} containers)",
                                quoted(name), record->subnet.str(), record->allocated.size()));
    }
    if (record->allocated.contains(*address) || !record->subnet.contains(*address) ||
        *address == record->gateway) {
        throw Error(fmt::format("the IPAM gave {}, which is not free in {}", address->str(),
                                record->subnet.str()));
    }
    record->allocated[*address] = id;
    network::saveNetwork(root, *record);
    Attachment attachment;
    attachment.network = name;
    attachment.endpoint.hostVeth = hostVethName(id);
    attachment.endpoint.bridge = record->bridge;
    attachment.endpoint.subnet = record->subnet;
    attachment.endpoint.gateway = record->gateway;
    attachment.endpoint.address = *address;
    return attachment;
}

void releaseAddresses(const std::string& root, const std::string& id) {
    if (!isDirectory(network::networksDir(root))) return;
    const network::NetworkLock lock(root);
    for (NetworkRecord& record : network::listNetworks(root)) {
        const auto before = record.allocated.size();
        std::erase_if(record.allocated, [&](const auto& entry) { return entry.second == id; });
        if (record.allocated.size() != before) network::saveNetwork(root, record);
    }
}

void addGeneratedEtcFiles(const std::string& root, const std::string& id,
                          const std::string& hostname, NetMode mode, const Attachment* attachment,
                          rootfs::RootfsSpec& spec) {
    const std::string dir = containerDir(root, id);
    const std::string hosts = joinPath(dir, "hosts");
    const std::string resolv = joinPath(dir, "resolv.conf");
    writeFileAtomic(hosts, containerHosts(hostname, mode, attachment));
    writeFileAtomic(resolv, containerResolvConf(mode));
    spec.binds.push_back({hosts, "/etc/hosts", false, true});
    spec.binds.push_back({resolv, "/etc/resolv.conf", false, true});
}

void bringUpLoopback(pid_t pid) {
    netlink::setUp(netlink::Socket::inNamespaceOf(pid), "lo");
}

Verb addNetworkVerb(CLI::App& app, const Globals& globals) {
    CLI::App* command = app.add_subcommand("network", "Manage networks");
    command->require_subcommand(1);
    struct Flags {
        std::string subnet;
        std::string gateway;
        std::string createName;
        std::string rmName;
    };
    auto flags = std::make_shared<Flags>();
    CLI::App* create = command->add_subcommand("create", "Create a network");
    create->add_option("--subnet", flags->subnet, "Subnet in CIDR format (default: a free /24)");
    create->add_option("--gateway", flags->gateway,
                       "Gateway (default: the subnet's first address)");
    create->add_option("name", flags->createName, "NAME")->required();
    CLI::App* ls = command->add_subcommand("ls", "List networks");
    CLI::App* rm = command->add_subcommand("rm", "Remove a network");
    rm->add_option("name", flags->rmName, "NAME")->required();
    return Verb{
        command, [flags, create, ls, rm, &globals] {
            if (create->parsed()) {
                const CreateRequest request =
                    checkCreate(flags->createName, flags->subnet, flags->gateway);
                // The same checks as under the lock, once before it too: bad input
                // leaves nothing, not even a lock file in a new --root.
                if (network::loadNetwork(globals.root, request.name)) {
                    throw UsageError(fmt::format("cannot create network {} (it exists already)",
                                                 quoted(request.name)));
                }
                if (request.subnet) chooseSubnet(globals.root, request.subnet);
                const network::NetworkLock lock(globals.root);
                const NetworkRecord record = createNetwork(globals.root, request);
                std::puts(record.name.c_str());
            } else if (ls->parsed()) {
                printNetworks(globals.root);
            } else if (rm->parsed()) {
                if (!network::loadNetwork(globals.root, flags->rmName)) {
                    throw UsageError(
                        fmt::format("no such network {} (see network ls)", quoted(flags->rmName)));
                }
                const network::NetworkLock lock(globals.root);
                removeNetwork(globals.root, flags->rmName);
                std::puts(flags->rmName.c_str());
            }
            return 0;
        }};
}

}  // namespace mydocker::driver
