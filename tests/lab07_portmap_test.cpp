// Lab 07's graded tests: published ports.
//
// The checklist of the lab, judged by real traffic and by `iptables -S`. Traffic goes
// only to loopback, to the runtime's bridge and to a "remote host" the test makes: a
// network namespace of its own on a veth from the host (198.18.7.0/30). Servers run in
// the container's network namespace (busybox's nc as CMD, or a process of the test's
// that joined the namespace and answers with the address it sees its client at, so a
// test knows which NAT the packet went through). The harness's leak check compares the
// host's links, the runtime's rules, ip_forward and the named netns before and after.
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

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <future>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/iptables.hpp"
#include "mydocker/network.hpp"
#include "mydocker/portmap.hpp"
#include "mydocker/process.hpp"
#include "mydocker/unique_fd.hpp"
#include "support/lab_test.hpp"

namespace mydocker::test {
namespace {

using namespace std::chrono_literals;
using portmap::PortMapping;
using portmap::Protocol;

/// The "remote host": a /30 between the host and a netns the test holds.
constexpr const char* kRemoteHostSide = "198.18.7.1";
constexpr const char* kRemoteSide = "198.18.7.2";
constexpr const char* kRemoteHostLink = "t7remote0";
constexpr const char* kRemoteLink = "t7remote1";
/// Host ports the tests publish (high, so no service of the host has them).
constexpr int kHostPort = 17080;
constexpr int kOtherHostPort = 17081;
constexpr int kUdpHostPort = 17053;
/// The container's ports.
constexpr int kContainerPort = 80;
constexpr int kUdpContainerPort = 53;
/// How long busybox's nc waits for its client, and the client for its answer: ample, for
/// a slow machine (a VM without KVM, busy) may take seconds to start the container; on
/// the reference the answer comes at once.
constexpr int kNcSeconds = 30;
/// How long a child in a namespace may take over its exchanges (beyond any client's
/// timeout: a safety net).
constexpr unsigned kChildAlarmSeconds = 60;

/// Runs a host tool and returns what it printed; fails the test if it failed.
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

sockaddr_in socketAddress(const std::string& address, int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, address.c_str(), &addr.sin_addr);
    return addr;
}

std::string addressText(const sockaddr_in& addr) {
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &addr.sin_addr, text, sizeof text);
    return text;
}

/// A server of the test's in the network namespace of `nsPid`, on 0.0.0.0:port: it answers
/// `count` clients (TCP connections, or UDP datagrams) with "<tag> <the client's address
/// as it sees it>". Returns once it is bound; stop() it at the end.
class Server {
  public:
    Server(pid_t nsPid, int port, Protocol protocol, std::string tag, int count = 1) {
        int ready[2];
        if (::pipe2(ready, O_CLOEXEC) != 0) throw SysError("pipe2");
        pid_ = forkIn(nsPid, [&] {
            ::close(ready[0]);
            const bool udp = protocol == Protocol::udp;
            const int s = ::socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
            const int one = 1;
            ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            const sockaddr_in addr = socketAddress("0.0.0.0", port);
            if (::bind(s, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) return 91;
            if (!udp && ::listen(s, 8) != 0) return 92;
            [[maybe_unused]] const ssize_t w = ::write(ready[1], "r", 1);
            for (int i = 0; i < count; ++i) {
                sockaddr_in peer{};
                socklen_t len = sizeof peer;
                char buffer[64];
                if (udp) {
                    if (::recvfrom(s, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&peer),
                                   &len) < 0)
                        return 93;
                    const std::string answer = tag + " " + addressText(peer);
                    ::sendto(s, answer.data(), answer.size(), 0,
                             reinterpret_cast<const sockaddr*>(&peer), len);
                } else {
                    const int c = ::accept(s, reinterpret_cast<sockaddr*>(&peer), &len);
                    if (c < 0) return 93;
                    [[maybe_unused]] const ssize_t n = ::read(c, buffer, sizeof buffer);
                    const std::string answer = tag + " " + addressText(peer);
                    [[maybe_unused]] const ssize_t m = ::write(c, answer.data(), answer.size());
                    ::close(c);
                }
            }
            return 0;
        });
        ::close(ready[1]);
        char byte = 0;
        pollfd fd = {ready[0], POLLIN, 0};
        const bool up = ::poll(&fd, 1, 5000) == 1 && ::read(ready[0], &byte, 1) == 1;
        ::close(ready[0]);
        if (!up) {
            stop();
            throw Error(fmt::format("the test's server in pid {}'s netns did not start", nsPid));
        }
    }
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    ~Server() { stop(); }

    /// Kills it if it still waits for a client, and reaps it.
    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        reap(pid_);
        pid_ = -1;
    }

  private:
    pid_t pid_ = -1;
};

/// What a client got: "" unless it reached a server within its time.
struct Reply {
    bool answered = false;
    std::string text;  ///< the server's answer: "<tag> <the client's address as it saw it>"
};

std::ostream& operator<<(std::ostream& os, const Reply& reply) {
    return os << (reply.answered ? "answered \"" + reply.text + "\"" : std::string("no answer"));
}

/// Sends "hello" from the namespace of `nsPid` to `address`:`port` (retrying until
/// `timeout`) and returns the answer.
Reply request(pid_t nsPid, const std::string& address, int port, Protocol protocol,
              std::chrono::milliseconds timeout = 4000ms) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw SysError("pipe2");
    const pid_t pid = forkIn(nsPid, [&] {
        ::close(out[0]);
        const sockaddr_in addr = socketAddress(address, port);
        const bool udp = protocol == Protocol::udp;
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            const int s = ::socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
            // A connect(2) that fails (refused, unreachable) is retried. A datagram's reply
            // is waited for 500 ms, then it is sent again (the first may have come before
            // the server); a connection's until the deadline (a server such as busybox's
            // nc answers one connection only: one given up would leave none).
            if (::connect(s, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 &&
                ::write(s, "hello\n", 6) == 6) {
                pollfd fd = {s, POLLIN, 0};
                char buffer[64];
                const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now());
                const long wait = udp ? 500 : std::max<long>(left.count(), 1);
                if (::poll(&fd, 1, static_cast<int>(wait)) == 1) {
                    const ssize_t n = ::read(s, buffer, sizeof buffer);
                    if (n > 0) {
                        [[maybe_unused]] const ssize_t m =
                            ::write(out[1], buffer, static_cast<std::size_t>(n));
                        return 0;
                    }
                }
            }
            ::close(s);
            std::this_thread::sleep_for(100ms);
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

/// The "remote host": a netns of the test's on a veth from the host, 198.18.7.2 on its
/// side, 198.18.7.1 on the host's. Its link names are the test's (not `md...`).
class RemoteHost {
  public:
    RemoteHost() {
        int hold[2];
        if (::pipe2(hold, O_CLOEXEC) != 0) throw SysError("pipe2");
        pid_ = ::fork();
        if (pid_ < 0) throw SysError("fork");
        if (pid_ == 0) {
            ::close(hold[1]);
            if (::unshare(CLONE_NEWNET) != 0) ::_exit(1);
            char byte = 0;
            [[maybe_unused]] const ssize_t n = ::read(hold[0], &byte, 1);  // until closed
            ::_exit(0);
        }
        ::close(hold[0]);
        hold_ = hold[1];
        for (int i = 0; i < 100 && nsLink(pid_, "net") == nsLink(::getpid(), "net"); ++i) {
            std::this_thread::sleep_for(10ms);
        }
        tool({"ip", "link", "add", kRemoteHostLink, "type", "veth", "peer", "name", kRemoteLink,
              "netns", fmt::format("/proc/{}/ns/net", pid_)});
        tool({"ip", "addr", "add", std::string(kRemoteHostSide) + "/30", "dev", kRemoteHostLink});
        tool({"ip", "link", "set", kRemoteHostLink, "up"});
        ipIn(pid_, {"addr", "add", std::string(kRemoteSide) + "/30", "dev", kRemoteLink});
        ipIn(pid_, {"link", "set", kRemoteLink, "up"});
        ipIn(pid_, {"link", "set", "lo", "up"});
    }
    RemoteHost(const RemoteHost&) = delete;
    RemoteHost& operator=(const RemoteHost&) = delete;
    ~RemoteHost() {
        runProcess({"ip", "link", "del", kRemoteHostLink});
        ::close(hold_);
        reap(pid_);
    }
    /// A process in its namespace.
    pid_t pid() const { return pid_; }

  private:
    pid_t pid_ = -1;
    int hold_ = -1;
};

class Lab07Portmap : public LabTest {
  protected:
    /// A busybox root with the probe, made once per test.
    const std::string& rootfs() {
        if (rootfs_.empty()) rootfs_ = makeRootfs();
        return rootfs_;
    }

    /// A container held alive on the default network with `-p` for each of `publish`.
    HeldContainer hold(const std::vector<std::string>& publish) {
        std::vector<std::string> flags;
        for (const auto& p : publish) flags.insert(flags.end(), {"-p", p});
        return startHeld(flags, rootfs());
    }

    /// The default network's gateway: the host's address on the bridge.
    std::string gateway() {
        const auto record =
            nlohmann::json::parse(readFile(joinPath(root(), "networks/bridge.json")));
        return record.at("gateway");
    }

    /// The default network's bridge.
    std::string bridge() {
        const auto record =
            nlohmann::json::parse(readFile(joinPath(root(), "networks/bridge.json")));
        return record.at("bridge");
    }

    /// The ids of the containers under root() (one per run that kept its record).
    std::vector<std::string> containerIds() {
        const std::string dir = joinPath(root(), "containers");
        return isDirectory(dir) ? listDir(dir) : std::vector<std::string>{};
    }

    std::string rootfs_;
};

/// Every line of `iptables -t TABLE -S` (filter and nat) whose comment is mydocker:<id>.
std::vector<std::string> rulesOf(const std::string& id) {
    std::vector<std::string> found;
    for (const char* table : {"filter", "nat"}) {
        for (const std::string& line : iptables::listRules(table)) {
            if (line.find("mydocker:" + id) != std::string::npos)
                found.push_back(std::string(table) + " " + line);
        }
    }
    return found;
}

/// The lines of `rules` that contain every one of `words`.
std::vector<std::string> withWords(const std::vector<std::string>& rules,
                                   const std::vector<std::string>& words) {
    std::vector<std::string> found;
    for (const std::string& rule : rules) {
        bool all = true;
        for (const std::string& w : words) all = all && rule.find(w) != std::string::npos;
        if (all) found.push_back(rule);
    }
    return found;
}

// --- the lab's contract, directly ----------------------------------------------------------

GRADED_TEST(Lab07Mapping, ParsesDockersSyntaxAndRefusesTheRest, 5) {
    PortMapping m = portmap::parsePortMapping("8080:80");
    EXPECT_FALSE(m.hostIp.has_value());
    EXPECT_EQ(m.hostPort, 8080);
    EXPECT_EQ(m.containerPort, 80);
    EXPECT_EQ(m.protocol, Protocol::tcp);
    m = portmap::parsePortMapping("127.0.0.1:1:65535/udp");
    ASSERT_TRUE(m.hostIp.has_value());
    EXPECT_EQ(m.hostIp->str(), "127.0.0.1");
    EXPECT_EQ(m.hostPort, 1);
    EXPECT_EQ(m.containerPort, 65535);
    EXPECT_EQ(m.protocol, Protocol::udp);
    EXPECT_EQ(portmap::parsePortMapping("53:5353/tcp").str(), "53:5353/tcp");
    for (const char* bad :
         {"0:80", "8080:0", "65536:80", "8080:99999", "8080:80/sctp", "8080:80/", "80", "", ":80",
          "8080:", "-1:80", "+80:80", "a:80", "300.1.1.1:8080:80", "1.2.3:8080:80", "8080:80:90",
          "127.0.0.1::80", "8080-8081:80", " 8080:80"}) {
        EXPECT_THROW(portmap::parsePortMapping(bad), UsageError) << "-p \"" << bad << "\"";
    }
}

GRADED_TEST(Lab07Rules, RuleListIsDockersWithoutItsProxy, 10) {
    const portmap::Target target{"c0ffee", "mdbr0", "mdvc0ffee", network::parseIpv4("10.213.7.2")};
    const std::vector<PortMapping> mappings = {portmap::parsePortMapping("8080:80"),
                                               portmap::parsePortMapping("127.0.0.1:8081:80"),
                                               portmap::parsePortMapping("5353:53/udp")};
    const auto rule = [](const char* table, const char* chain, std::vector<std::string> match) {
        return iptables::Rule{table, chain, std::move(match), "c0ffee"};
    };
    const std::vector<iptables::Rule> expected = {
        rule("nat", "MYDOCKER-DNAT",
             {"-p", "tcp", "-m", "tcp", "--dport", "8080", "-j", "DNAT", "--to-destination",
              "10.213.7.2:80"}),
        rule("nat", "MYDOCKER-DNAT",
             {"-d", "127.0.0.1/32", "-p", "tcp", "-m", "tcp", "--dport", "8081", "-j", "DNAT",
              "--to-destination", "10.213.7.2:80"}),
        rule("nat", "MYDOCKER-DNAT",
             {"-p", "udp", "-m", "udp", "--dport", "5353", "-j", "DNAT", "--to-destination",
              "10.213.7.2:53"}),
        rule("filter", "MYDOCKER-FORWARD",
             {"-d", "10.213.7.2/32", "!", "-i", "mdbr0", "-o", "mdbr0", "-p", "tcp", "-m", "tcp",
              "--dport", "80", "-j", "ACCEPT"}),
        rule("nat", "MYDOCKER-POSTROUTING",
             {"-s", "10.213.7.2/32", "-d", "10.213.7.2/32", "-p", "tcp", "-m", "tcp", "--dport",
              "80", "-j", "MASQUERADE"}),
        rule("nat", "MYDOCKER-POSTROUTING",
             {"-s", "127.0.0.0/8", "-d", "10.213.7.2/32", "-o", "mdbr0", "-p", "tcp", "-m", "tcp",
              "--dport", "80", "-j", "MASQUERADE"}),
        rule("filter", "MYDOCKER-FORWARD",
             {"-d", "10.213.7.2/32", "!", "-i", "mdbr0", "-o", "mdbr0", "-p", "udp", "-m", "udp",
              "--dport", "53", "-j", "ACCEPT"}),
        rule("nat", "MYDOCKER-POSTROUTING",
             {"-s", "10.213.7.2/32", "-d", "10.213.7.2/32", "-p", "udp", "-m", "udp", "--dport",
              "53", "-j", "MASQUERADE"}),
        rule("nat", "MYDOCKER-POSTROUTING",
             {"-s", "127.0.0.0/8", "-d", "10.213.7.2/32", "-o", "mdbr0", "-p", "udp", "-m", "udp",
              "--dport", "53", "-j", "MASQUERADE"}),
    };
    const std::vector<iptables::Rule> rules = portmap::portRules(mappings, target);
    ASSERT_EQ(rules.size(), expected.size())
        << "expected 3 DNATs, then 3 rules for each distinct container port (80/tcp twice "
           "gives its rules once)";
    for (std::size_t i = 0; i < rules.size(); ++i) {
        EXPECT_EQ(rules[i], expected[i]) << "rule " << i << ": expected\n  " << expected[i].str()
                                         << "\nfound\n  " << rules[i].str();
    }
}

// --- traffic ---------------------------------------------------------------------------------

GRADED_TEST_F(Lab07Portmap, RemoteClientReachesABusyboxServer, 15) {
    const RemoteHost remote;
    // busybox's nc in the container, as CMD: it answers one client, then exits (or gives
    // up after kNcSeconds).
    const std::string rf = rootfs();
    auto run = std::async(std::launch::async, [&] {
        return lab({"run", "-p", fmt::format("{}:{}", kHostPort, kContainerPort), "--rootfs", rf,
                    "--", "/bin/sh", "-c",
                    fmt::format("echo from-busybox | timeout {} nc -l -p {}", kNcSeconds,
                                kContainerPort)},
                   std::chrono::seconds(2 * kNcSeconds));
    });
    const Reply reply = request(remote.pid(), kRemoteHostSide, kHostPort, Protocol::tcp,
                                std::chrono::seconds(kNcSeconds));
    EXPECT_TRUE(reply.answered && reply.text.find("from-busybox") != std::string::npos)
        << "a client on the remote host sent to " << kRemoteHostSide << ":" << kHostPort
        << " (the host) and expected the container's nc on port " << kContainerPort
        << " to answer (PREROUTING's DNAT, FORWARD): " << reply;
    const RunResult r = run.get();
    if (reply.answered) {
        EXPECT_EQ(r.exitCode, 0) << r;
    }
}

GRADED_TEST_F(Lab07Portmap, RemoteClientKeepsItsAddressAndTheHostReachesThePort, 15) {
    const RemoteHost remote;
    HeldContainer held = hold({fmt::format("{}:{}", kHostPort, kContainerPort)});
    ASSERT_TRUE(held.started());
    const std::string gw = gateway();
    Server server(held.hostPid(), kContainerPort, Protocol::tcp, "container", 3);

    Reply reply = request(remote.pid(), kRemoteHostSide, kHostPort, Protocol::tcp);
    EXPECT_EQ(reply.text, fmt::format("container {}", kRemoteSide))
        << "from the remote host to " << kRemoteHostSide << ":" << kHostPort
        << ": expected the container to answer and to see the client's own address "
           "(DNAT only, no masquerade): "
        << reply;
    reply = request(0, "127.0.0.1", kHostPort, Protocol::tcp);
    EXPECT_EQ(reply.text, fmt::format("container {}", gw))
        << "from the host to 127.0.0.1:" << kHostPort
        << ": expected the container to answer, seeing the bridge's address (OUTPUT's DNAT, "
           "route_localnet on the bridge, the masquerade of 127.0.0.0/8): "
        << reply;
    reply = request(0, gw, kHostPort, Protocol::tcp);
    EXPECT_EQ(reply.text, fmt::format("container {}", gw))
        << "from the host to its bridge address " << gw << ":" << kHostPort
        << ": expected the container to answer (OUTPUT's DNAT): " << reply;
    server.stop();
    EXPECT_EQ(held.wait().exitCode, 0);
}

GRADED_TEST_F(Lab07Portmap, UdpPortAnswers, 10) {
    const RemoteHost remote;
    HeldContainer held = hold({fmt::format("{}:{}/udp", kUdpHostPort, kUdpContainerPort)});
    ASSERT_TRUE(held.started());
    const std::string gw = gateway();
    Server server(held.hostPid(), kUdpContainerPort, Protocol::udp, "udp", 2);

    Reply reply = request(remote.pid(), kRemoteHostSide, kUdpHostPort, Protocol::udp);
    EXPECT_EQ(reply.text, fmt::format("udp {}", kRemoteSide))
        << "a datagram from the remote host to " << kRemoteHostSide << ":" << kUdpHostPort
        << "/udp: " << reply;
    reply = request(0, "127.0.0.1", kUdpHostPort, Protocol::udp);
    EXPECT_EQ(reply.text, fmt::format("udp {}", gw))
        << "a datagram from the host to 127.0.0.1:" << kUdpHostPort << "/udp: " << reply;
    server.stop();
    EXPECT_EQ(held.wait().exitCode, 0);
}

GRADED_TEST_F(Lab07Portmap, ContainerReachesItsOwnPublishedPort, 10) {
    HeldContainer held = hold({fmt::format("{}:{}", kHostPort, kContainerPort)});
    ASSERT_TRUE(held.started());
    const std::string gw = gateway();
    Server server(held.hostPid(), kContainerPort, Protocol::tcp, "container");
    // From inside the container to the host's address, on the published port: DNAT sends
    // it back where it came from (hairpin).
    const Reply reply = request(held.hostPid(), gw, kHostPort, Protocol::tcp);
    EXPECT_EQ(reply.text, fmt::format("container {}", gw))
        << "the container sent to " << gw << ":" << kHostPort
        << " (the host) and expected itself to answer, seeing the bridge's address (the "
           "hairpin masquerade; hairpin mode on its bridge port where br_netfilter is loaded): "
        << reply;
    server.stop();
    EXPECT_EQ(held.wait().exitCode, 0);
}

GRADED_TEST_F(Lab07Portmap, OtherAddressesOnThePortAreNotRewritten, 5) {
    const RemoteHost remote;
    HeldContainer held = hold({fmt::format("{}:{}", kHostPort, kContainerPort)});
    ASSERT_TRUE(held.started());
    // The remote host has a server of its own on the published port number.
    Server there(remote.pid(), kHostPort, Protocol::tcp, "remote", 2);
    Server here(held.hostPid(), kContainerPort, Protocol::tcp, "container");

    Reply reply = request(0, kRemoteSide, kHostPort, Protocol::tcp);
    EXPECT_TRUE(reply.text.starts_with("remote "))
        << "from the host to " << kRemoteSide << ":" << kHostPort
        << ", not an address of the host: expected the remote host's server, not the "
           "container (--dst-type LOCAL on OUTPUT's jump): "
        << reply;
    reply = request(held.hostPid(), kRemoteSide, kHostPort, Protocol::tcp);
    EXPECT_TRUE(reply.text.starts_with("remote "))
        << "from the container to " << kRemoteSide << ":" << kHostPort
        << ": expected the remote host's server (--dst-type LOCAL on PREROUTING's jump): " << reply;
    // The port itself is published (so the checks above were fair).
    reply = request(remote.pid(), kRemoteHostSide, kHostPort, Protocol::tcp);
    EXPECT_TRUE(reply.text.starts_with("container "))
        << "from the remote host to " << kRemoteHostSide << ":" << kHostPort << ": " << reply;
    there.stop();
    here.stop();
    EXPECT_EQ(held.wait().exitCode, 0);
}

// --- the rules' lifetime -------------------------------------------------------------------------

GRADED_TEST_F(Lab07Portmap, RulesAreTaggedOnceAndGoneAfterExitKillAndFailedStart, 15) {
    const std::vector<std::string> publish = {
        fmt::format("{}:{}", kHostPort, kContainerPort),
        fmt::format("{}:{}", kOtherHostPort, kContainerPort),
        fmt::format("{}:{}/udp", kUdpHostPort, kUdpContainerPort)};
    {
        HeldContainer held = hold(publish);
        ASSERT_TRUE(held.started());
        const auto ids = containerIds();
        ASSERT_EQ(ids.size(), 1u) << ::testing::PrintToString(ids);
        const std::string id = ids.front();
        const auto rules = rulesOf(id);
        const std::set<std::string> distinct(rules.begin(), rules.end());
        EXPECT_EQ(distinct.size(), rules.size())
            << "a rule appears twice: " << ::testing::PrintToString(rules);
        // 3 DNATs; for 80/tcp and 53/udp an ACCEPT and two MASQUERADEs each.
        EXPECT_EQ(rules.size(), 9u) << ::testing::PrintToString(rules);
        EXPECT_EQ(withWords(rules, {"nat ", "--dport 17080", "-j DNAT", ":80"}).size(), 1u)
            << ::testing::PrintToString(rules);
        EXPECT_EQ(withWords(rules, {"nat ", "-p udp", "--dport 17053", "-j DNAT", ":53"}).size(),
                  1u)
            << ::testing::PrintToString(rules);
        EXPECT_EQ(withWords(rules, {"filter ", "--dport 80", "-j ACCEPT"}).size(), 1u)
            << ::testing::PrintToString(rules);
        EXPECT_EQ(withWords(rules, {"nat ", "-j MASQUERADE"}).size(), 4u)
            << ::testing::PrintToString(rules);
        // The DNATs' chain is jumped to from PREROUTING and OUTPUT, for local addresses only.
        const auto dnat = withWords(rules, {"-j DNAT"});
        ASSERT_FALSE(dnat.empty());
        const std::string chain = iptables::splitRuleLine(dnat.front().substr(4)).at(1);
        const auto nat = iptables::listRules("nat");
        std::vector<std::string> natLines;
        for (const auto& line : nat) natLines.push_back(line);
        for (const char* from : {"-A PREROUTING", "-A OUTPUT"}) {
            EXPECT_EQ(withWords(natLines, {from, "--dst-type LOCAL", "-j " + chain}).size(), 1u)
                << "expected one jump from " << from << " to " << chain
                << " with -m addrtype --dst-type LOCAL: " << ::testing::PrintToString(natLines);
        }
        // Hairpin mode on the container's bridge port.
        const std::string port = joinPath("/sys/class/net", "mdv" + id.substr(0, 11));
        EXPECT_EQ(readLine(joinPath(port, "brport/hairpin_mode")), "1");
        EXPECT_EQ(readLine("/proc/sys/net/ipv4/conf/" + bridge() + "/route_localnet"), "1");
        EXPECT_EQ(held.wait().exitCode, 0);
        EXPECT_TRUE(rulesOf(id).empty()) << "after exit: " << ::testing::PrintToString(rulesOf(id));
    }
    const auto leftAfter = [&](const char* what) {
        for (const auto& id : containerIds()) {
            EXPECT_TRUE(rulesOf(id).empty())
                << "after " << what << ": " << ::testing::PrintToString(rulesOf(id));
        }
    };
    {
        HeldContainer held = hold(publish);
        ASSERT_TRUE(held.started());
        ::kill(held.hostPid(), SIGKILL);
        EXPECT_EQ(held.wait().exitCode, 137);
        leftAfter("PID 1 was killed");
    }
    {
        HeldContainer held = hold(publish);
        ASSERT_TRUE(held.started());
        ::kill(held.runtimePid(), SIGKILL);
        held.wait();
        const RunResult r = lab({"network", "ls"});
        EXPECT_EQ(r.exitCode, 0) << r;
        leftAfter("the runtime was killed and the next command ran");
    }
    const auto before = runtimeRules();
    const RunResult r =
        lab({"run", "-p", publish.front(), "--rootfs", rootfs(), "--", "/no/such/command"});
    EXPECT_EQ(r.exitCode, 127) << r;
    EXPECT_EQ(runtimeRules(), before) << "a failed start left rules";
}

GRADED_TEST_F(Lab07Portmap, AHostPortIsPublishedOnce, 10) {
    HeldContainer held = hold({fmt::format("{}:{}", kHostPort, kContainerPort)});
    ASSERT_TRUE(held.started());
    const auto rulesBefore = runtimeRules();
    const auto linksBefore = hostLinks();
    RunResult r = lab({"run", "-p", fmt::format("{}:{}", kHostPort, 81), "--rootfs", rootfs(), "--",
                       "/bin/true"});
    EXPECT_EQ(r.exitCode, 125) << "a second container on host port " << kHostPort << r;
    expectOneErrorLine(r, std::to_string(kHostPort));
    EXPECT_EQ(runtimeRules(), rulesBefore) << "a refused -p must add no rule";
    EXPECT_EQ(hostLinks(), linksBefore) << "a refused -p must leave no link";

    // A port another program holds: a listener of the test's on the host.
    const UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(static_cast<bool>(listener));
    const sockaddr_in addr = socketAddress("127.0.0.1", kOtherHostPort);
    ASSERT_EQ(::bind(listener.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0)
        << "port " << kOtherHostPort << " is taken on this host: " << std::strerror(errno);
    ASSERT_EQ(::listen(listener.get(), 1), 0);
    r = lab({"run", "-p", fmt::format("{}:{}", kOtherHostPort, kContainerPort), "--rootfs",
             rootfs(), "--", "/bin/true"});
    EXPECT_EQ(r.exitCode, 125) << "host port " << kOtherHostPort << " is held by a listener" << r;
    expectOneErrorLine(r, std::to_string(kOtherHostPort));
    EXPECT_EQ(runtimeRules(), rulesBefore) << "a refused -p must add no rule";
    EXPECT_EQ(held.wait().exitCode, 0);
}

GRADED_TEST_F(Lab07Portmap, BadPublishValuesAreRejected, 5) {
    const std::string rf = rootfs();
    for (const char* bad :
         {"0:80", "8080:0", "65536:80", "8080:80/sctp", "300.1.1.1:8080:80", "80"}) {
        expectRejected(lab({"run", "-p", bad, "--rootfs", rf, "--", "/bin/true"}), bad);
    }
    expectRejected(
        lab({"run", "-p", "17082:80", "-p", "17082:81", "--rootfs", rf, "--", "/bin/true"}),
        "17082");
    expectRejected(
        lab({"run", "--net", "none", "-p", "17082:80", "--rootfs", rf, "--", "/bin/true"}), "none");
    expectRejected(
        lab({"run", "--net", "host", "-p", "17082:80", "--rootfs", rf, "--", "/bin/true"}), "host");
    // One -p takes one value: the next word is IMAGE (here one the store does not have).
    expectRejected(lab({"run", "-p", "17082:80", "no-such-image", "/bin/true"}), "no-such-image");
}

}  // namespace
}  // namespace mydocker::test
