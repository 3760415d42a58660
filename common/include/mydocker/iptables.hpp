/// @file
/// @brief iptables rules in the runtime's own chains: given code.
///
/// iptables here is iptables-nft: the runtime runs the `iptables` command with an argv
/// (no shell) and `-w` (waits for the xtables lock another program holds). Every rule
/// the runtime adds carries a comment `mydocker:<owner>` and is deleted by repeating
/// it exactly with `-D`: iptables-nft finds a rule only when every match, the comment
/// included, is the same. The runtime's rules live in chains of its own (kChains),
/// jumped to from the built-in chains; it never flushes a chain that is not its own
/// and never changes a policy.
/// Man pages: iptables(8), iptables-extensions(8).
#pragma once

#include <string>
#include <vector>

namespace mydocker::iptables {

/// The prefix of every rule's comment: `mydocker:<owner>`.
inline constexpr const char* kCommentPrefix = "mydocker:";

/// One rule, as data: where it goes and what it says.
struct Rule {
    std::string table;  ///< "filter" or "nat"
    std::string chain;  ///< "MYDOCKER-FORWARD", "POSTROUTING"...
    std::vector<std::string>
        match;          ///< the matches and the target: {"-s", "10.0.0.0/24", "-j", "MASQUERADE"}
    std::string owner;  ///< the comment is `mydocker:<owner>` (a container id, a bridge)

    /// The iptables argv that does `operation` ("-A", "-D", "-C", or "-I" with a
    /// position given as its own word in `position`) with this rule.
    std::vector<std::string> argv(const std::string& operation,
                                  const std::string& position = {}) const;
    /// The rule as `iptables -t TABLE -S` prints it ("-A CHAIN ... -m comment --comment ... -j X"),
    /// for messages.
    std::string str() const;
    /// Equal when every field is (for tests).
    bool operator==(const Rule&) const = default;
};

/// Appends `rule` to its chain. @throws Error with iptables's message
void append(const Rule& rule);

/// Inserts `rule` first in its chain. @throws Error with iptables's message
void insertFirst(const Rule& rule);

/// Deletes `rule` (one copy of it), or does nothing if it is not there.
/// @throws Error with iptables's message when it is there and cannot be deleted
void remove(const Rule& rule);

/// True when `rule` is in its chain (iptables -C).
bool exists(const Rule& rule);

/// Creates chain `chain` in `table` unless it exists.
void ensureChain(const std::string& table, const std::string& chain);

/// True when chain `chain` of `table` exists and holds no rule.
bool chainIsEmpty(const std::string& table, const std::string& chain);

/// Deletes chain `chain` of `table` if it exists and is empty (never flushes one).
void deleteChainIfEmpty(const std::string& table, const std::string& chain);

/// The rules of `table` (all chains) as `iptables -t TABLE -S` prints them.
std::vector<std::string> listRules(const std::string& table);

/// The words of one line of `iptables -S` ("-A", "CHAIN", "-p", "tcp", ...), a "quoted
/// string" as one word without its quotes.
std::vector<std::string> splitRuleLine(const std::string& line);

/// The owner of a line of `iptables -S`: what follows `mydocker:` in its comment, or "".
std::string ownerOf(const std::vector<std::string>& words);

/// Deletes every rule of chain `chain` in `table` whose comment is `mydocker:<owner>`,
/// as `-S` prints it (the sweep, which has no closure to undo with). Nothing if the chain
/// does not exist. @throws Error with iptables's message
void removeOwnedBy(const std::string& table, const std::string& chain, const std::string& owner);

}  // namespace mydocker::iptables
