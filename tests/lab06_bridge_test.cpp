// Lab 06's graded tests: containers on bridge networks.
//
// The checklist of the lab, one test each, judged by kernel state read with iproute2
// (`ip`, through `nsenter --net` for a container's namespace) and by real TCP traffic,
// sent only between network namespaces the test itself holds: two containers on one
// network; two networks; a "remote host" netns reached through the host. The leak check
// of the harness (support/host_state.hpp) compares the host's links, the runtime's
// iptables rules, ip_forward and the named netns with what was there before each test.
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <future>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/network.hpp"
#include "mydocker/process.hpp"
#include "mydocker/unique_fd.hpp"
#include "support/lab_test.hpp"

namespace mydocker::test {
namespace {

using namespace std::chrono_literals;
using network::Ipv4;
using network::Subnet;

/// Subnets the tests give their networks: private, clear of this host's and the VM's routes.
constexpr const char* kSubnetA = "10.213.1.0/24";
constexpr const char* kSubnetB = "10.213.2.0/24";
constexpr const char* kSubnetParallel = "10.213.3.0/24";
constexpr const char* kSubnetTiny = "10.213.4.0/30";
/// The "remote host": a /30 between the host and a netns the test holds.
constexpr const char* kRemoteHostSide = "198.18.6.1";
constexpr const char* kRemoteSide = "198.18.6.2";
constexpr const char* kRemoteHostLink = "t6remote0";
constexpr const char* kRemoteLink = "t6remote1";
/// TCP ports the tests listen on inside their namespaces.
constexpr int kPort = 7000;
/// How long a child in a namespace may take over one exchange.
constexpr unsigned kChildAlarmSeconds = 10;
/// Parallel starts on one network.
constexpr int kParallelRuns = 20;

/// Runs `argv` (a host tool: ip, nsenter, iptables) and returns what it printed; fails the
/// test if it failed.
std::string tool(const std::vector<std::string>& argv) {
    const ProcessResult r = runProcess(argv);
    EXPECT_EQ(r.exitCode(), 0) << commandLine(argv) << ": " << r.err;
    return r.out;
}

/// `ip ARGS` in the network namespace of `pid`.
std::string ipIn(pid_t pid, std::vector<std::string> args) {
    std::vector<std::string> argv = {"nsenter", fmt::format("--net=/proc/{}/ns/net", pid), "ip"};
    argv.insert(argv.end(), args.begin(), args.end());
    return tool(argv);
}

/// The first IPv4 address (without prefix) in `ip -o -4 addr` output, "" if none.
std::string firstInet(const std::string& text) {
    static const std::regex inet(R"(inet (\d+\.\d+\.\d+\.\d+)/(\d+))");
    std::smatch m;
    return std::regex_search(text, m, inet) ? m[1].str() : "";
}

/// A network's record as the runtime wrote it (its bridge, gateway, allocations).
nlohmann::json networkRecord(const std::string& root, const std::string& name) {
    return nlohmann::json::parse(readFile(joinPath(root, "networks/" + name + ".json")));
}

/// Forks a child that enters the network namespace of `nsPid` (or stays in the host's
/// when it is 0) and exits with `body()`; it dies after kChildAlarmSeconds whatever happens.
pid_t forkIn(pid_t nsPid, const std::function<int()>& body) {
    const pid_t pid = ::fork();
    if (pid < 0) throw SysError("fork");
    if (pid > 0) return pid;
    ::alarm(kChildAlarmSeconds);
    if (nsPid > 0) {
        const std::string path = fmt::format("/proc/{}/ns/net", nsPid);
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) ::_exit(90);
    }
    ::_exit(body());
}

/// Waits for `pid` and returns its exit code (128+N for a signal).
int reap(pid_t pid) {
    return exitCodeOfStatus(waitForPid(pid));
}

/// A TCP server in the namespace of `nsPid`, on 0.0.0.0:port: it accepts one connection,
/// reads what comes, and answers with the address it sees the client at. Returns once it
/// listens; `reap()` its pid.
pid_t startServer(pid_t nsPid, int port) {
    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) throw SysError("pipe2");
    const pid_t pid = forkIn(nsPid, [&] {
        ::close(ready[0]);
        const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int one = 1;
        ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<std::uint16_t>(port));
        if (::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 91;
        if (::listen(s, 1) != 0) return 92;
        [[maybe_unused]] const ssize_t w = ::write(ready[1], "r", 1);
        sockaddr_in peer{};
        socklen_t len = sizeof peer;
        const int c = ::accept(s, reinterpret_cast<sockaddr*>(&peer), &len);
        if (c < 0) return 93;
        char buffer[64];
        [[maybe_unused]] const ssize_t n = ::read(c, buffer, sizeof buffer);
        char text[INET_ADDRSTRLEN] = {};
        ::inet_ntop(AF_INET, &peer.sin_addr, text, sizeof text);
        [[maybe_unused]] const ssize_t m = ::write(c, text, std::strlen(text));
        ::close(c);
        return 0;
    });
    ::close(ready[1]);
    char byte = 0;
    pollfd fd = {ready[0], POLLIN, 0};
    const bool up = ::poll(&fd, 1, 5000) == 1 && ::read(ready[0], &byte, 1) == 1;
    ::close(ready[0]);
    if (!up) {
        ::kill(pid, SIGKILL);
        reap(pid);
        throw Error(fmt::format("the test's TCP server in pid {}'s netns did not start", nsPid));
    }
    return pid;
}

/// What a client got: "" and a reason when it could not connect within `timeout`.
struct Reply {
    bool connected = false;
    std::string text;  ///< the server's answer: the client's address as the server saw it
};

/// Connects from the namespace of `nsPid` to `address`:`port` (retrying until `timeout`),
/// sends a line and returns the answer.
Reply request(pid_t nsPid, const std::string& address, int port,
              std::chrono::milliseconds timeout = 3000ms) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw SysError("pipe2");
    const pid_t pid = forkIn(nsPid, [&] {
        ::close(out[0]);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<std::uint16_t>(port));
        ::inet_pton(AF_INET, address.c_str(), &addr.sin_addr);
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
            ::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
            pollfd fd = {s, POLLOUT, 0};
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            int err = ETIMEDOUT;
            socklen_t len = sizeof err;
            if (::poll(&fd, 1, static_cast<int>(std::max<long>(left.count(), 1))) == 1) {
                ::getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
            }
            if (err == 0) {
                const int flags = ::fcntl(s, F_GETFL);
                ::fcntl(s, F_SETFL, flags & ~O_NONBLOCK);
                [[maybe_unused]] const ssize_t w = ::write(s, "hello\n", 6);
                char buffer[64];
                const ssize_t n = ::read(s, buffer, sizeof buffer);
                if (n > 0) {
                    [[maybe_unused]] const ssize_t m =
                        ::write(out[1], buffer, static_cast<std::size_t>(n));
                }
                return 0;
            }
            ::close(s);
            std::this_thread::sleep_for(50ms);
        }
        return 1;
    });
    ::close(out[1]);
    std::string text;
    char buffer[64];
    ssize_t n = 0;
    while ((n = ::read(out[0], buffer, sizeof buffer)) > 0)
        text.append(buffer, static_cast<std::size_t>(n));
    ::close(out[0]);
    return Reply{reap(pid) == 0, text};
}

class Lab06Bridge : public LabTest {
  protected:
    /// A busybox root with the probe, made once per test.
    const std::string& rootfs() {
        if (rootfs_.empty()) rootfs_ = makeRootfs();
        return rootfs_;
    }

    /// `network create --subnet SUBNET NAME`, which must succeed.
    void createNetwork(const std::string& name, const std::string& subnet) {
        const RunResult r = lab({"network", "create", "--subnet", subnet, name});
        ASSERT_EQ(r.exitCode, 0) << r;
    }

    /// A container held alive on `--net net` (its PID 1 is the probe).
    HeldContainer hold(const std::string& net) { return startHeld({"--net", net}, rootfs()); }

    /// The address of eth0 in the container whose PID 1 is `pid`.
    std::string addressOf(pid_t pid) {
        return firstInet(ipIn(pid, {"-o", "-4", "addr", "show", "dev", "eth0"}));
    }

    /// The host's links whose names start with "mdv" (containers' veth ends).
    static std::vector<std::string> hostVeths() {
        std::vector<std::string> found;
        for (const auto& link : hostLinks()) {
            if (link.starts_with("mdv")) found.push_back(link);
        }
        return found;
    }

    std::string rootfs_;
};

// --- the IPAM, through the contract --------------------------------------------------

GRADED_TEST(Lab06Ipam, BitmapReservesNetworkGatewayAndBroadcast, 5) {
    const Subnet subnet = network::parseSubnet("10.1.2.0/29");  // 8 addresses
    const Ipv4 gateway = network::parseIpv4("10.1.2.1");
    auto bitmap = network::addressBitmap(subnet, gateway, {});
    ASSERT_EQ(bitmap.size(), 8u);
    EXPECT_TRUE(bitmap[0]) << "the network address is no container's";
    EXPECT_TRUE(bitmap[1]) << "the gateway is the bridge's";
    EXPECT_TRUE(bitmap[7]) << "the broadcast address is no container's";
    auto first = network::firstFreeAddress(subnet, bitmap);
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->str(), "10.1.2.2");

    // A gateway elsewhere in the subnet; the taken ones skipped; then full.
    const Ipv4 high = network::parseIpv4("10.1.2.6");
    std::set<Ipv4> taken = {network::parseIpv4("10.1.2.1"), network::parseIpv4("10.1.2.2")};
    bitmap = network::addressBitmap(subnet, high, taken);
    first = network::firstFreeAddress(subnet, bitmap);
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->str(), "10.1.2.3");
    taken.insert({network::parseIpv4("10.1.2.3"), network::parseIpv4("10.1.2.4"),
                  network::parseIpv4("10.1.2.5")});
    bitmap = network::addressBitmap(subnet, high, taken);
    EXPECT_FALSE(network::firstFreeAddress(subnet, bitmap).has_value())
        << "a full subnet has no free address";

    EXPECT_EQ(network::macForAddress(network::parseIpv4("172.29.0.2")), "02:42:ac:1d:00:02");
}

TEST(Lab06Given, SubnetsAndAddressesParse) {
    EXPECT_EQ(network::parseSubnet("10.0.0.0/24").str(), "10.0.0.0/24");
    EXPECT_EQ(network::parseSubnet("10.0.0.0/24").broadcast().str(), "10.0.0.255");
    for (const char* bad : {"300.1.1.0/24", "10.0.0.0/33", "10.0.0.1/24", "10.0.0/24", "10.0.0.0",
                            "10.0.0.0/", "a.b.c.d/8", "10.0.0.0/24x"}) {
        EXPECT_THROW(network::parseSubnet(bad), UsageError) << bad;
    }
    EXPECT_TRUE(network::parseSubnet("10.0.0.0/16").overlaps(network::parseSubnet("10.0.5.0/24")));
    EXPECT_FALSE(network::parseSubnet("10.0.0.0/24").overlaps(network::parseSubnet("10.0.1.0/24")));
}

TEST_F(Lab06Bridge, BadNetworkCreateLeavesTheRootEmpty) {
    // Given code (passes on the skeleton): bad input to `network create` is refused before
    // anything is made, not even the networks' lock file.
    expectRejected(lab({"network", "create", "--subnet", "300.1.1.0/24", "x"}), "300.1.1.0/24");
    expectRejected(
        lab({"network", "create", "--subnet", "10.213.9.0/24", "--gateway", "10.213.9.255", "x"}),
        "10.213.9.255");
    expectRejected(lab({"network", "create", "host"}), "host");
    expectRejected(lab({"network", "rm", "nosuch"}), "nosuch");
    expectRejected(lab({"run", "--net", "nosuch", "--rootfs", rootfs(), "--", "/bin/true"}),
                   "nosuch");
}

// --- a container on a network -----------------------------------------------------------

GRADED_TEST_F(Lab06Bridge, ContainerHasEth0WithItsAddressMacAndMtu, 15) {
    HeldContainer held = hold("bridge");
    ASSERT_TRUE(held.started());
    const pid_t pid = held.hostPid();
    EXPECT_NE(nsLink(pid, "net"), nsLink(::getpid(), "net"))
        << "expected the container in a network namespace of its own";

    const auto record = networkRecord(root(), "bridge");
    const std::string bridge = record.at("bridge");
    const std::string gateway = record.at("gateway");
    EXPECT_TRUE(bridge.starts_with("md") && bridge.size() <= 15) << bridge;
    // The bridge, on the host, with the gateway's address.
    const std::string bridgeAddr = tool({"ip", "-o", "-4", "addr", "show", "dev", bridge});
    EXPECT_EQ(firstInet(bridgeAddr), gateway) << bridgeAddr;
    const std::string bridgeLink = tool({"ip", "-o", "link", "show", "dev", bridge});

    const std::string address = addressOf(pid);
    const Subnet subnet = network::parseSubnet(record.at("subnet").get<std::string>());
    ASSERT_FALSE(address.empty()) << ipIn(pid, {"addr"});
    EXPECT_TRUE(subnet.contains(network::parseIpv4(address))) << address << " in " << subnet.str();
    EXPECT_NE(address, gateway);

    const std::string eth0 = ipIn(pid, {"-o", "link", "show", "dev", "eth0"});
    const std::string mac = network::macForAddress(network::parseIpv4(address));
    EXPECT_NE(eth0.find("link/ether " + mac), std::string::npos)
        << "expected MAC " << mac << ": " << eth0;
    EXPECT_NE(eth0.find(",UP"), std::string::npos) << eth0;
    static const std::regex mtu(R"(mtu (\d+))");
    std::smatch inner;
    std::smatch outer;
    ASSERT_TRUE(std::regex_search(eth0, inner, mtu)) << eth0;
    ASSERT_TRUE(std::regex_search(bridgeLink, outer, mtu)) << bridgeLink;
    EXPECT_EQ(inner[1].str(), outer[1].str()) << "expected eth0's MTU to be the bridge's";

    const std::string lo = ipIn(pid, {"-o", "link", "show", "dev", "lo"});
    EXPECT_NE(lo.find("UP"), std::string::npos) << "expected lo up: " << lo;
    // The host's end: a port of the bridge, up.
    const std::string ports = tool({"ip", "-o", "link", "show", "master", bridge});
    EXPECT_NE(ports.find("mdv"), std::string::npos)
        << "expected a veth end on " << bridge << ": " << ports;

    EXPECT_EQ(held.wait().exitCode, 0);
}

GRADED_TEST_F(Lab06Bridge, OneShotCommandFindsRouteHostsAndResolvConf, 10) {
    const RunResult r =
        lab({"run", "--hostname", "web1", "--rootfs", rootfs(), "--", "/bin/sh", "-c",
             "ip route; echo ---; cat /etc/hosts; echo ---; cat /etc/resolv.conf"});
    ASSERT_EQ(r.exitCode, 0) << r;
    const auto record = networkRecord(root(), "bridge");
    const std::string gateway = record.at("gateway");
    EXPECT_NE(r.out.find("default via " + gateway + " dev eth0"), std::string::npos)
        << "expected the default route via " << gateway << " before CMD runs" << r;
    static const std::regex hostLine(R"((\d+\.\d+\.\d+\.\d+)\s+web1)");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.out, m, hostLine))
        << "expected /etc/hosts to name the container's address and hostname" << r;
    EXPECT_TRUE(network::parseSubnet(record.at("subnet").get<std::string>())
                    .contains(network::parseIpv4(m[1].str())));
    EXPECT_NE(r.out.find("127.0.0.1\tlocalhost"), std::string::npos) << r;
    EXPECT_NE(r.out.find("nameserver "), std::string::npos) << r;
    EXPECT_EQ(r.out.find("nameserver 127."), std::string::npos)
        << "a loopback nameserver means nothing in the container's namespace" << r;
}

GRADED_TEST_F(Lab06Bridge, ContainersOnOneNetworkTalkTcp, 15) {
    createNetwork("front", kSubnetA);
    HeldContainer a = hold("front");
    ASSERT_TRUE(a.started());
    HeldContainer b = hold("front");
    ASSERT_TRUE(b.started());
    const std::string addrA = addressOf(a.hostPid());
    const std::string addrB = addressOf(b.hostPid());
    ASSERT_FALSE(addrA.empty());
    ASSERT_NE(addrA, addrB) << "two containers, one address";

    const pid_t server = startServer(a.hostPid(), kPort);
    const Reply reply = request(b.hostPid(), addrA, kPort);
    EXPECT_TRUE(reply.connected) << "B (" << addrB << ") could not reach A at " << addrA << ":"
                                 << kPort;
    EXPECT_EQ(reply.text, addrB) << "A should see B's own address (no NAT on one bridge)";
    if (!reply.connected) ::kill(server, SIGKILL);
    reap(server);
    EXPECT_EQ(a.wait().exitCode, 0);
    EXPECT_EQ(b.wait().exitCode, 0);
}

GRADED_TEST_F(Lab06Bridge, TwoNetworksAreIsolated, 10) {
    createNetwork("front", kSubnetA);
    createNetwork("back", kSubnetB);
    HeldContainer a = hold("front");
    ASSERT_TRUE(a.started());
    HeldContainer b = hold("back");
    ASSERT_TRUE(b.started());
    const std::string addrA = addressOf(a.hostPid());
    ASSERT_FALSE(addrA.empty());

    const pid_t server = startServer(a.hostPid(), kPort);
    const Reply blocked = request(b.hostPid(), addrA, kPort, 1500ms);
    EXPECT_FALSE(blocked.connected) << "a container on 'back' reached one on 'front': "
                                    << "networks must be isolated (Docker's DOCKER-ISOLATION)";
    // The server is still waiting: the same network reaches it (so the check above was fair).
    HeldContainer c = hold("front");
    ASSERT_TRUE(c.started());
    const Reply allowed = request(c.hostPid(), addrA, kPort);
    EXPECT_TRUE(allowed.connected) << "a container on 'front' could not reach " << addrA;
    if (!allowed.connected) ::kill(server, SIGKILL);
    reap(server);
}

GRADED_TEST_F(Lab06Bridge, OutboundTrafficIsMasqueraded, 15) {
    // The "remote host": a netns of the test's, on a veth from the host. Its link names
    // are the test's (not `md...`, the runtime's).
    int holdPipe[2];
    ASSERT_EQ(::pipe2(holdPipe, O_CLOEXEC), 0);
    const pid_t remote = ::fork();
    ASSERT_GE(remote, 0);
    if (remote == 0) {
        ::close(holdPipe[1]);
        if (::unshare(CLONE_NEWNET) != 0) ::_exit(1);
        char byte = 0;
        [[maybe_unused]] const ssize_t n =
            ::read(holdPipe[0], &byte, 1);  // until the test closes it
        ::_exit(0);
    }
    ::close(holdPipe[0]);
    const auto cleanup = [&] {
        runProcess({"ip", "link", "del", kRemoteHostLink});
        ::close(holdPipe[1]);
        reap(remote);
    };
    // Wait until the child is in its own netns.
    for (int i = 0; i < 100 && nsLink(remote, "net") == nsLink(::getpid(), "net"); ++i) {
        std::this_thread::sleep_for(10ms);
    }
    tool({"ip", "link", "add", kRemoteHostLink, "type", "veth", "peer", "name", kRemoteLink,
          "netns", fmt::format("/proc/{}/ns/net", remote)});
    tool({"ip", "addr", "add", std::string(kRemoteHostSide) + "/30", "dev", kRemoteHostLink});
    tool({"ip", "link", "set", kRemoteHostLink, "up"});
    ipIn(remote, {"addr", "add", std::string(kRemoteSide) + "/30", "dev", kRemoteLink});
    ipIn(remote, {"link", "set", kRemoteLink, "up"});
    ipIn(remote, {"link", "set", "lo", "up"});

    HeldContainer c = hold("bridge");
    if (!c.started()) {
        cleanup();
        FAIL() << "the container did not start: " << c.wait();
    }
    const pid_t server = startServer(remote, kPort);
    const Reply reply = request(c.hostPid(), kRemoteSide, kPort);
    EXPECT_TRUE(reply.connected) << "the container could not reach the remote host " << kRemoteSide
                                 << " through the host (ip_forward, FORWARD, masquerade)";
    EXPECT_EQ(reply.text, kRemoteHostSide)
        << "the remote host should see the host's address on its link (MASQUERADE), not the "
           "container's";
    if (!reply.connected) ::kill(server, SIGKILL);
    reap(server);
    EXPECT_EQ(c.wait().exitCode, 0);
    cleanup();
}

GRADED_TEST_F(Lab06Bridge, ParallelStartsGetDistinctAddresses, 10) {
    createNetwork("par", kSubnetParallel);
    const std::string rf = rootfs();
    // Every container prints its address, then waits for the gate: so all of them hold
    // their addresses at once (one that ended would give its address to the next).
    const std::string gate = joinPath(rf, "run/gate");
    makeDirs(joinPath(rf, "run"));
    std::vector<std::future<ProcessResult>> runs;
    for (int i = 0; i < kParallelRuns; ++i) {
        runs.push_back(std::async(std::launch::async, [&] {
            SpawnOptions options;
            options.timeout = 90s;
            return runProcess({labBinary(), "--root", root(), "run", "--net", "par", "--rootfs", rf,
                               "--", "/bin/sh", "-c",
                               "ip -o -4 addr show dev eth0; "
                               "while [ ! -e /run/gate ]; do sleep 0.1; done"},
                              options);
        }));
    }
    std::size_t heldAtOnce = 0;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline) {
        try {
            heldAtOnce = networkRecord(root(), "par").at("allocated").size();
        } catch (const std::exception& e) {
            ADD_FAILURE() << "the network's record is not valid JSON while containers start: "
                          << e.what();
            break;
        }
        if (heldAtOnce >= static_cast<std::size_t>(kParallelRuns)) break;
        std::this_thread::sleep_for(100ms);
    }
    // Open the gate (a new file: O_CREAT).
    const UniqueFd opened(::open(gate.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    EXPECT_TRUE(static_cast<bool>(opened)) << "could not create " << gate;
    EXPECT_EQ(heldAtOnce, static_cast<std::size_t>(kParallelRuns))
        << "expected " << kParallelRuns << " containers holding an address at once";
    std::set<std::string> addresses;
    for (auto& run : runs) {
        const ProcessResult r = run.get();
        EXPECT_EQ(r.exitCode(), 0) << r.err;
        const std::string address = firstInet(r.out);
        EXPECT_FALSE(address.empty()) << r.out << r.err;
        if (!address.empty()) addresses.insert(address);
    }
    EXPECT_EQ(addresses.size(), static_cast<std::size_t>(kParallelRuns))
        << "expected " << kParallelRuns << " distinct addresses, got "
        << ::testing::PrintToString(addresses);
    // The record is still JSON, and every address was given back.
    nlohmann::json record;
    ASSERT_NO_THROW(record = networkRecord(root(), "par"));
    EXPECT_TRUE(record.at("allocated").empty()) << record.dump();
}

GRADED_TEST_F(Lab06Bridge, NothingLeftAfterExitKillFailedStartAndRm, 10) {
    const std::string forwardBefore = readLine("/proc/sys/net/ipv4/ip_forward");
    createNetwork("front", kSubnetA);
    const auto allocated = [&] { return networkRecord(root(), "front").at("allocated").size(); };

    // A normal exit.
    RunResult r = lab({"run", "--net", "front", "--rootfs", rootfs(), "--", "/bin/true"});
    EXPECT_EQ(r.exitCode, 0) << r;
    EXPECT_EQ(allocated(), 0u) << "the address of a container that exited is still allocated";
    EXPECT_TRUE(hostVeths().empty()) << ::testing::PrintToString(hostVeths());

    // PID 1 killed.
    {
        HeldContainer held = hold("front");
        ASSERT_TRUE(held.started());
        EXPECT_EQ(allocated(), 1u);
        ::kill(held.hostPid(), SIGKILL);
        EXPECT_EQ(held.wait().exitCode, 137);
        EXPECT_EQ(allocated(), 0u) << "the address of a killed container is still allocated";
        EXPECT_TRUE(hostVeths().empty()) << ::testing::PrintToString(hostVeths());
    }
    // The runtime itself killed: the next command sweeps up.
    {
        HeldContainer held = hold("front");
        ASSERT_TRUE(held.started());
        ::kill(held.runtimePid(), SIGKILL);
        held.wait();
        r = lab({"network", "ls"});
        EXPECT_EQ(r.exitCode, 0) << r;
        EXPECT_EQ(allocated(), 0u) << "the next command should release a dead runtime's address";
        EXPECT_TRUE(hostVeths().empty()) << ::testing::PrintToString(hostVeths());
    }
    // A start that fails (CMD not found).
    r = lab({"run", "--net", "front", "--rootfs", rootfs(), "--", "/no/such/command"});
    EXPECT_EQ(r.exitCode, 127) << r;
    EXPECT_EQ(allocated(), 0u) << "the address of a failed start is still allocated";

    // network rm: the bridge, its rules and (with the last network) ip_forward.
    const std::string bridge = networkRecord(root(), "front").at("bridge");
    r = lab({"network", "rm", "front"});
    EXPECT_EQ(r.exitCode, 0) << r;
    EXPECT_FALSE(hostLinks().count(bridge)) << "the bridge " << bridge << " is still there";
    for (const auto& rule : runtimeRules()) {
        EXPECT_EQ(rule.find(bridge), std::string::npos)
            << "a rule of the removed network: " << rule;
    }
    EXPECT_EQ(readLine("/proc/sys/net/ipv4/ip_forward"), forwardBefore);
    EXPECT_FALSE(pathExists(joinPath(root(), "networks/front.json")));
}

GRADED_TEST_F(Lab06Bridge, BadInputAndAFullSubnetAreRejected, 10) {
    createNetwork("tiny", kSubnetTiny);  // a /30: the gateway and one container
    HeldContainer held = hold("tiny");
    ASSERT_TRUE(held.started());
    const std::set<std::string> linksBefore = hostLinks();
    const auto rejected = [&](const std::vector<std::string>& args, const std::string& topic) {
        const RunResult r = lab(args);
        EXPECT_EQ(r.exitCode, 125) << r;
        expectOneErrorLine(r, topic);
        EXPECT_EQ(hostLinks(), linksBefore) << "bad input must create no link" << r;
    };
    rejected({"run", "--net", "tiny", "--rootfs", rootfs(), "--", "/bin/true"}, "no free address");
    rejected({"network", "create", "--subnet", "300.1.1.0/24", "x"}, "300.1.1.0/24");
    rejected({"network", "create", "--subnet", "10.0.0.0/33", "x"}, "10.0.0.0/33");
    rejected({"network", "create", "--subnet", "10.0.0.1/24", "x"}, "10.0.0.1/24");
    rejected({"network", "create", "--subnet", "10.213.4.0/24", "x"}, "overlaps");
    rejected({"network", "create", "--subnet", "10.213.9.0/24", "--gateway", "10.213.8.1", "x"},
             "10.213.8.1");
    rejected({"network", "create", "a/b"}, "a/b");
    rejected({"network", "create", "tiny"}, "exists");
    rejected({"network", "rm", "tiny"}, "tiny");  // a container is on it
    rejected({"network", "rm", "nosuch"}, "nosuch");
    rejected({"run", "--net", "nosuch", "--rootfs", rootfs(), "--", "/bin/true"}, "nosuch");
    EXPECT_EQ(networkRecord(root(), "tiny").at("allocated").size(), 1u);
    EXPECT_EQ(held.wait().exitCode, 0);
}

}  // namespace
}  // namespace mydocker::test
