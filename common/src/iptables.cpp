// The runtime's iptables rules, through the iptables command (iptables-nft here): an argv,
// no shell; each failure names the rule and carries iptables's own message.
#include "mydocker/iptables.hpp"

#include <fmt/format.h>

#include <sstream>

#include "mydocker/error.hpp"
#include "mydocker/process.hpp"

namespace mydocker::iptables {
namespace {

/// The command; found in PATH (/usr/sbin on Debian).
constexpr const char* kIptables = "iptables";

/// Seconds iptables waits for the xtables lock before giving up (another runtime, Docker).
constexpr const char* kLockWaitSeconds = "10";

/// The exit code of `iptables -C` for "no such rule" (and of -D, -X for a missing one).
constexpr int kNotFound = 1;

/// Runs iptables with `args`; returns what it did.
ProcessResult runIptables(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {kIptables, "-w", kLockWaitSeconds};
    argv.insert(argv.end(), args.begin(), args.end());
    return runProcess(argv);
}

/// iptables's message, on one line.
std::string messageOf(const ProcessResult& result) {
    std::string text = result.err.empty() ? result.out : result.err;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    for (char& c : text) {
        if (c == '\n') c = ' ';
    }
    return text.empty() ? fmt::format("exit code {}", result.exitCode()) : text;
}

/// Runs iptables with `args` and requires success.
void mustRun(const std::vector<std::string>& args, const std::string& what) {
    const ProcessResult result = runIptables(args);
    if (result.exitCode() != 0) {
        throw Error(fmt::format("iptables {}: {}", what, messageOf(result)));
    }
}

}  // namespace

std::vector<std::string> Rule::argv(const std::string& operation,
                                    const std::string& position) const {
    std::vector<std::string> args = {"-t", table, operation, chain};
    if (!position.empty()) args.push_back(position);
    args.insert(args.end(), match.begin(), match.end());
    // The comment last: `-S` prints it before the target, but -C and -D compare
    // matches, whatever their order on the command line.
    args.insert(args.end(), {"-m", "comment", "--comment", kCommentPrefix + owner});
    return args;
}

std::string Rule::str() const {
    std::string text = fmt::format("-t {} -A {}", table, chain);
    for (const std::string& word : match) text += " " + word;
    return text + fmt::format(" -m comment --comment {}{}", kCommentPrefix, owner);
}

void append(const Rule& rule) {
    mustRun(rule.argv("-A"), rule.str());
}

void insertFirst(const Rule& rule) {
    mustRun(rule.argv("-I", "1"), rule.str());
}

void remove(const Rule& rule) {
    if (!exists(rule)) return;
    mustRun(rule.argv("-D"), fmt::format("deleting {}", rule.str()));
}

bool exists(const Rule& rule) {
    const ProcessResult result = runIptables(rule.argv("-C"));
    if (result.exitCode() == 0) return true;
    if (result.exitCode() == kNotFound) return false;
    throw Error(fmt::format("iptables checking {}: {}", rule.str(), messageOf(result)));
}

void ensureChain(const std::string& table, const std::string& chain) {
    if (runIptables({"-t", table, "-S", chain}).exitCode() == 0) return;
    mustRun({"-t", table, "-N", chain}, fmt::format("-t {} -N {}", table, chain));
}

bool chainIsEmpty(const std::string& table, const std::string& chain) {
    const ProcessResult result = runIptables({"-t", table, "-S", chain});
    if (result.exitCode() != 0) return false;
    // Only its "-N CHAIN" line.
    std::istringstream lines(result.out);
    std::string line;
    int count = 0;
    while (std::getline(lines, line)) {
        if (!line.empty()) ++count;
    }
    return count <= 1;
}

void deleteChainIfEmpty(const std::string& table, const std::string& chain) {
    if (!chainIsEmpty(table, chain)) return;
    mustRun({"-t", table, "-X", chain}, fmt::format("-t {} -X {}", table, chain));
}

std::vector<std::string> listRules(const std::string& table) {
    const ProcessResult result = runIptables({"-t", table, "-S"});
    if (result.exitCode() != 0) {
        throw Error(fmt::format("iptables -t {} -S: {}", table, messageOf(result)));
    }
    std::vector<std::string> rules;
    std::istringstream lines(result.out);
    std::string line;
    while (std::getline(lines, line)) {
        if (!line.empty()) rules.push_back(line);
    }
    return rules;
}

std::vector<std::string> splitRuleLine(const std::string& line) {
    std::vector<std::string> words;
    std::string word;
    bool inQuotes = false;
    bool any = false;
    for (const char c : line) {
        if (c == '"') {
            inQuotes = !inQuotes;
            any = true;
        } else if (c == ' ' && !inQuotes) {
            if (any) words.push_back(word);
            word.clear();
            any = false;
        } else {
            word += c;
            any = true;
        }
    }
    if (any) words.push_back(word);
    return words;
}

std::string ownerOf(const std::vector<std::string>& words) {
    for (std::size_t i = 0; i + 1 < words.size(); ++i) {
        if (words[i] == "--comment" && words[i + 1].starts_with(kCommentPrefix)) {
            return words[i + 1].substr(std::string_view(kCommentPrefix).size());
        }
    }
    return "";
}

void removeOwnedBy(const std::string& table, const std::string& chain, const std::string& owner) {
    const ProcessResult result = runIptables({"-t", table, "-S", chain});
    if (result.exitCode() != 0) return;  // no such chain: no rule in it
    std::istringstream lines(result.out);
    std::string line;
    while (std::getline(lines, line)) {
        std::vector<std::string> words = splitRuleLine(line);
        if (words.size() < 2 || words[0] != "-A" || ownerOf(words) != owner) continue;
        // `-A CHAIN matches...` deleted as `-D CHAIN matches...`: the same rule, exactly.
        words[0] = "-D";
        words.insert(words.begin(), {"-t", table});
        mustRun(words, fmt::format("deleting -t {} {}", table, line));
    }
}

}  // namespace mydocker::iptables
