/// @file
/// @brief The networks' records, `<root>/networks/<name>.json`: given code.
///
/// A record holds what `network rm`, the IPAM and the sweep need long after `network
/// create` ended: the subnet, the gateway, the bridge, and which container holds which
/// address. Many runtimes change one network at once (20 containers started together),
/// so every read-modify-write happens under NetworkLock (flock(2) on
/// `<root>/networks/.lock`), and a record is written to a temporary file and renamed:
/// a reader sees the old record or the new one, whatever its size.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mydocker/network.hpp"
#include "mydocker/unique_fd.hpp"

namespace mydocker::network {

/// The version of `networks/<name>.json` this runtime writes and reads.
inline constexpr int kNetworkRecordVersion = 1;

/// One network, as recorded.
struct NetworkRecord {
    std::string name;                       ///< its name (`bridge` is the default one)
    std::string bridge;                     ///< the bridge's name on the host (`md...`)
    Subnet subnet;                          ///< its subnet
    Ipv4 gateway;                           ///< the bridge's address
    std::map<Ipv4, std::string> allocated;  ///< address -> the container id holding it
    /// Equal when every field is (for tests).
    bool operator==(const NetworkRecord&) const = default;
};

/// `<root>/networks`.
std::string networksDir(const std::string& root);

/// Renders a record as JSON (with the format version).
std::string toJson(const NetworkRecord& record);

/// Parses what toJson wrote.
/// @throws Error `corrupt network file <where> (<why>)`
NetworkRecord networkFromJson(const std::string& json, const std::string& where);

/// Reads network `name`'s record, or nothing if there is none.
/// @throws Error if it exists and is corrupt
std::optional<NetworkRecord> loadNetwork(const std::string& root, const std::string& name);

/// Writes a record atomically (temporary file, rename).
void saveNetwork(const std::string& root, const NetworkRecord& record);

/// Removes network `name`'s record (nothing if there is none).
void removeNetworkRecord(const std::string& root, const std::string& name);

/// Every network's record, sorted by name.
std::vector<NetworkRecord> listNetworks(const std::string& root);

/// An exclusive flock(2) on `<root>/networks/.lock`, held while it lives: every change
/// to the networks' records is made under it. Move-only.
class NetworkLock {
  public:
    /// Waits for the lock (making `<root>/networks/` if needed).
    explicit NetworkLock(const std::string& root);

  private:
    UniqueFd fd_;
};

}  // namespace mydocker::network
