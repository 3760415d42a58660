#include "mydocker/file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "mydocker/error.hpp"
#include "mydocker/unique_fd.hpp"

namespace mydocker {

std::string readFile(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw SysError("open", path);
    std::string content;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw SysError("read", path);
        if (n == 0) break;
        content.append(buffer, static_cast<std::size_t>(n));
    }
    return content;
}

std::string readLine(const std::string& path) {
    std::string content = readFile(path);
    while (!content.empty() && (content.back() == '\n' || content.back() == ' ')) {
        content.pop_back();
    }
    return content;
}

void writeFile(const std::string& path, std::string_view content) {
    // No O_CREAT: kernel knobs (cgroup files, /proc) exist or the write is wrong.
    // O_TRUNC as the shell's `>`: kernel files ignore it, and a plain file (a test's fake
    // cgroup tree) then holds exactly the value written, as the kernel file would.
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
    if (!fd) throw SysError("open", path);
    // A kernel file takes the value in one write(2); its errno is the kernel's verdict.
    const ssize_t n = ::write(fd.get(), content.data(), content.size());
    if (n < 0) throw SysError(fmt::format("write \"{}\" to", content), path);
    if (static_cast<std::size_t>(n) != content.size()) {
        throw Error(fmt::format("short write to {}", path));
    }
}

void writeFileAtomic(const std::string& path, std::string_view content) {
    const std::string temporary = path + ".tmp";
    {
        UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (!fd) throw SysError("open", temporary);
        std::size_t done = 0;
        while (done < content.size()) {
            const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw SysError("write", temporary);
            done += static_cast<std::size_t>(n);
        }
    }
    if (::rename(temporary.c_str(), path.c_str()) != 0) throw SysError("rename", temporary);
}

bool pathExists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

bool isDirectory(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

void makeDirs(const std::string& path, unsigned mode) {
    std::string partial;
    std::size_t pos = 0;
    while (pos != std::string::npos) {
        pos = path.find('/', pos + 1);
        partial = path.substr(0, pos);
        if (partial.empty()) continue;
        if (::mkdir(partial.c_str(), static_cast<mode_t>(mode)) != 0 && errno != EEXIST) {
            throw SysError("mkdir", partial);
        }
    }
}

void removeAll(const std::string& path) {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
    if (ec) throw SysError(ec.value(), "remove", path);
}

std::vector<std::string> listDir(const std::string& path) {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) throw SysError("opendir", path);
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(dir)) {
        const std::string_view name = entry->d_name;
        if (name != "." && name != "..") names.emplace_back(name);
    }
    ::closedir(dir);
    std::sort(names.begin(), names.end());
    return names;
}

std::string joinPath(std::string_view a, std::string_view b) {
    std::string joined(a);
    while (!joined.empty() && joined.back() == '/') joined.pop_back();
    while (!b.empty() && b.front() == '/') b.remove_prefix(1);
    joined += '/';
    joined += b;
    return joined;
}

}  // namespace mydocker
