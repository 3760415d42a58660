/// @file
/// @brief Lab 04 contract: a container's memory limit, swap off, and OOM kill detection.
///
/// The memory controller charges every page a container's processes touch (anonymous
/// memory, page cache, kernel memory) to its cgroup. At the limit the kernel first
/// reclaims (drops cache, swaps), and when nothing more can be reclaimed its OOM killer
/// SIGKILLs a process of the cgroup. The runtime then reads the cgroup's OOM counter to
/// tell that kill from any other SIGKILL, reports `container was OOM-killed` and exits 137.
///
/// The files differ between versions, so MemoryController has one implementation per
/// version, chosen from the cgroup's (controllerFor()):
///
/// | what | v1 file | v2 file |
/// |---|---|---|
/// | RAM limit | `memory.limit_in_bytes` | `memory.max` |
/// | swap | `memory.memsw.limit_in_bytes` (RAM + swap) | `memory.swap.max` (swap only) |
/// | OOM kills | `oom_kill` in `memory.oom_control` (4.13+) | `oom_kill` in `memory.events` |
/// | usage | `memory.usage_in_bytes` | `memory.current` |
///
/// Implemented in `labs/04-memory/` (student) and `solutions/04-memory/`.
/// Kernel documentation: Documentation/admin-guide/cgroup-v1/memory.rst and the
/// "Memory" section of Documentation/admin-guide/cgroup-v2.rst.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "mydocker/cgroups.hpp"

namespace mydocker::memory {

/// The smallest `--memory` accepted, as Docker: 6 MiB (less cannot even start a shell).
inline constexpr std::uint64_t kMinimumBytes = 6ULL * 1024 * 1024;

/// A size in bytes: digits with an optional unit, `b`, `k`, `m` or `g` (either case;
/// powers of 1024, as Docker), no sign, no fraction: `64m`, `1024k`, `1g`, `100000000`.
/// @param text the text to parse
/// @param what names the value in the error: `invalid <what> "<text>" (<why>)`
/// @throws UsageError naming the size and what is wrong: not a size (`abc`, `5x`, `-1`),
///         or too large to count in 64 bits
std::uint64_t parseSize(std::string_view text, std::string_view what = "size");

/// `-m/--memory SIZE`: a parseSize() of at least kMinimumBytes.
/// @throws UsageError (exit 125) naming --memory and what is wrong: not a size, zero,
///         below the minimum (`1m`), or too large
std::uint64_t parseMemorySize(std::string_view text);

/// One cgroup's memory controller, the same on v1 and v2.
class MemoryController {
public:
    virtual ~MemoryController() = default;

    /// Limits the cgroup's RAM to `bytes` and keeps swap from extending it, so that at
    /// the limit the OOM killer acts instead of the container swapping. Call it before
    /// any process is in the cgroup.
    /// @return true when swap is limited too; false when the kernel cannot limit it (no
    ///         swap accounting: no `memory.memsw.limit_in_bytes` on v1, no
    ///         `memory.swap.max` on v2), and only the RAM limit was set
    /// @throws SysError if the kernel rejects a value
    [[nodiscard]] virtual bool setLimit(std::uint64_t bytes) = 0;

    /// How many of the cgroup's processes the OOM killer has killed so far: the kernel's
    /// `oom_kill` counter. 0 on a kernel that has none (v1 before Linux 4.13).
    /// @throws SysError if the counter cannot be read
    virtual std::uint64_t oomKills() const = 0;

    /// The memory charged to the cgroup now, in bytes.
    /// @throws SysError if the counter cannot be read
    virtual std::uint64_t usageBytes() const = 0;
};

/// The v1 files: `memory.limit_in_bytes`, `memory.memsw.limit_in_bytes`, `memory.oom_control`.
class V1Memory : public MemoryController {
public:
    /// The memory controller of `cgroup`, which must outlive this object.
    explicit V1Memory(const cgroups::Cgroup& cgroup) : cgroup_(cgroup) {}
    [[nodiscard]] bool setLimit(std::uint64_t bytes) override;
    std::uint64_t oomKills() const override;
    std::uint64_t usageBytes() const override;

private:
    const cgroups::Cgroup& cgroup_;
};

/// The v2 files: `memory.max`, `memory.swap.max`, `memory.events`.
class V2Memory : public MemoryController {
public:
    /// The memory controller of `cgroup`, which must outlive this object.
    explicit V2Memory(const cgroups::Cgroup& cgroup) : cgroup_(cgroup) {}
    [[nodiscard]] bool setLimit(std::uint64_t bytes) override;
    std::uint64_t oomKills() const override;
    std::uint64_t usageBytes() const override;

private:
    const cgroups::Cgroup& cgroup_;
};

/// The MemoryController of `cgroup`'s version (Cgroup::version()).
std::unique_ptr<MemoryController> controllerFor(const cgroups::Cgroup& cgroup);

/// The runtime's step before attaching the container: limits `cgroup` to `bytes`. Where
/// swap cannot be limited it says so in one warning line, as Docker does, and goes on
/// with the RAM limit alone.
/// @throws Error if the host has no memory controller; SysError if a write fails
void applyMemoryLimit(const cgroups::Cgroup& cgroup, std::uint64_t bytes);

/// The runtime's step after the container ended, before its cgroup is removed: true
/// when the OOM killer killed at least one of its processes. False on a host without
/// a memory controller (nothing was limited, nothing can be told).
/// @throws SysError if the counter cannot be read
bool oomKilled(const cgroups::Cgroup& cgroup);

}  // namespace mydocker::memory
