/*
 * probe: a tiny static helper that runs inside a container and prints kernel state.
 *
 * The tests copy it into a root filesystem (or run it from the host's in lab 01) as the
 * container's CMD, so what a container sees is read by code that is not the runtime's.
 * It is static so that it runs in any rootfs, even one without a libc.
 *
 * Output: one `key=value` per line on stdout where sensible; exit 0 on success,
 * 1 when the operation failed (the reason on stderr), 2 on a usage error.
 *
 *   hold FIFO        open FIFO for reading (blocks until the test opens it for writing),
 *                    read until EOF, exit 0: keeps the container alive while the test looks
 *   pid              pid=, ppid= (CMD of a container is pid=1, ppid=0)
 *   hostname         hostname=
 *   ns               uts=, pid=, mnt=, ipc=, net=, cgroup=: the links in /proc/self/ns
 *   cgroup           /proc/self/cgroup as is
 *   mountinfo        /proc/self/mountinfo as is
 *   pids             pids=1,7,... count=N: the processes this /proc shows
 *   env              the environment, one KEY=VALUE per line
 *   exit N           exit with code N
 *   segv             die of SIGSEGV (a fault: even a PID 1 cannot ignore it)
 *   sleep SECONDS    sleep, then exit 0
 *   fork-child       fork; the child prints pid= and its /proc/self/cgroup, the parent waits
 *                    and exits with the child's code
 *   forks N          fork up to N children that wait to be killed; forked=K where K is how
 *                    many fork() calls succeeded before one failed (EAGAIN under pids.max);
 *                    then kill and reap them (lab 03)
 *   spin SECONDS     busy-loop for SECONDS of wall time; wall=, cpu= seconds used (lab 03)
 *   alloc MIB        malloc MIB mebibytes and write every page; allocated=MIB (lab 04: under
 *                    a lower memory limit the OOM killer ends it first)
 *   alloc-child MIB  fork a child that does `alloc MIB`, wait for it and exit 0 whatever
 *                    became of it: child_exit=N, or child_signal=N if a signal ended it
 *                    (lab 04: the OOM killer ends the child, PID 1 lives on)
 *   fds              the open file descriptors: fds=0,1,2 (sorted), then fd=N TARGET for
 *                    each (the link in /proc/self/fd)
 *   fd-escape FD MARKER
 *                    try to reach the host file MARKER (absolute path) through an inherited
 *                    descriptor FD, as in CVE-2024-21626: open /proc/self/fd/FD/MARKER,
 *                    fchdir(FD) and open MARKER relative to it, chroot(/proc/self/fd/FD) in a
 *                    child; fd=open or fd=closed, then escaped=yes (and via=...) or escaped=no
 *   escape MARKER    try to leave the container's root: the chroot trick (mkdir, chroot into
 *                    it, chdir("..") 64 times, chroot(".")) and /proc/1/root/MARKER;
 *                    escaped=yes if the host file MARKER (absolute path) became readable,
 *                    else escaped=no (lab 02)
 *   ls PATH          exists=1 or exists=0 (lstat), and entry=NAME for each entry of a directory
 *   stat PATH        type=, mode= (octal permission bits), uid=, gid=, size=, and major=,
 *                    minor= for devices (stat(2) follows symlinks)
 *   read PATH        the file's contents as is
 *   write PATH TEXT  create or truncate PATH and write TEXT to it
 *   add-key          the add_key(2) system call (denied by Docker's seccomp profile): errno=0
 *                    if it worked, else errno=N (lab 10)
 *   mount-proc DIR   mount(2) a procfs on DIR: errno=0 or errno=N (lab 10)
 *   mount-cgroup DIR mount(2) the memory cgroup hierarchy (v1), then cgroup2, on DIR: errno=
 *                    of the last try, 0 if one worked (lab 10)
 *   mknod PATH MAJOR:MINOR
 *                    make a block device node: errno=0 or errno=N; with 0, open it for
 *                    reading: open_errno=0 or open_errno=N (lab 10)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_FAILED = 1, EXIT_USAGE = 2 };

/* How many times `escape` climbs "..": deeper than any real directory tree. */
enum { ESCAPE_CLIMBS = 64 };

/* Largest `forks N` accepted: far above any pids.max a test sets. */
enum { MAX_FORKS = 4096 };

static const char* program = "probe";

static int fail(const char* what, const char* arg) {
    fprintf(stderr, "%s: %s(%s): %s\n", program, what, arg ? arg : "", strerror(errno));
    return EXIT_FAILED;
}

static int usage(const char* message) {
    fprintf(stderr, "%s: %s (see the comment at the top of probe.c)\n", program, message);
    return EXIT_USAGE;
}

/* Parses a non-negative decimal number; -1 if it is not one. */
static long parse_number(const char* text) {
    char* end = NULL;
    errno = 0;
    const long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < 0) return -1;
    return value;
}

/* Copies a file to stdout. */
static int cat(const char* path) {
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail("open", path);
    char buffer[4096];
    for (;;) {
        const ssize_t n = read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            close(fd);
            return fail("read", path);
        }
        if (n == 0) break;
        fwrite(buffer, 1, (size_t)n, stdout);
    }
    close(fd);
    return 0;
}

static int cmd_hold(const char* fifo) {
    /* Blocks until the test opens the other end: from then on the test knows CMD runs. */
    const int fd = open(fifo, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail("open", fifo);
    char buffer[256];
    for (;;) {
        const ssize_t n = read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break; /* EOF: the test released us */
    }
    close(fd);
    return 0;
}

static int cmd_pid(void) {
    printf("pid=%ld\nppid=%ld\n", (long)getpid(), (long)getppid());
    return 0;
}

static int cmd_hostname(void) {
    char name[256] = {0};
    if (gethostname(name, sizeof name - 1) != 0) return fail("gethostname", NULL);
    printf("hostname=%s\n", name);
    return 0;
}

static int cmd_ns(void) {
    static const char* const names[] = {"uts", "pid", "mnt", "ipc", "net", "cgroup"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i) {
        char path[64];
        char target[256];
        snprintf(path, sizeof path, "/proc/self/ns/%s", names[i]);
        const ssize_t n = readlink(path, target, sizeof target - 1);
        if (n < 0) return fail("readlink", path);
        target[n] = '\0';
        printf("%s=%s\n", names[i], target);
    }
    return 0;
}

static int is_number(const char* name) {
    if (*name == '\0') return 0;
    for (; *name != '\0'; ++name) {
        if (*name < '0' || *name > '9') return 0;
    }
    return 1;
}

static int cmd_pids(void) {
    DIR* dir = opendir("/proc");
    if (dir == NULL) return fail("opendir", "/proc");
    int count = 0;
    printf("pids=");
    for (const struct dirent* entry; (entry = readdir(dir)) != NULL;) {
        if (!is_number(entry->d_name)) continue;
        printf("%s%s", count == 0 ? "" : ",", entry->d_name);
        ++count;
    }
    closedir(dir);
    printf("\ncount=%d\n", count);
    return 0;
}

static int cmd_env(void) {
    extern char** environ;
    for (char** e = environ; *e != NULL; ++e) printf("%s\n", *e);
    return 0;
}

static int cmd_segv(void) {
    /* No core dump: a container test must not leave core files (or wait for a dump helper). */
    if (prctl(PR_SET_DUMPABLE, 0) != 0) return fail("prctl", "PR_SET_DUMPABLE");
    fflush(stdout);
    /* A fault is a forced signal: the kernel delivers it even to a namespace's PID 1,
     * which ignores every other signal it has no handler for. */
    volatile int* nowhere = NULL;
    *nowhere = 1;
    return EXIT_FAILED; /* not reached */
}

static int cmd_fork_child(void) {
    fflush(stdout);
    const pid_t child = fork();
    if (child < 0) return fail("fork", NULL);
    if (child == 0) {
        printf("pid=%ld\n", (long)getpid());
        const int rc = cat("/proc/self/cgroup");
        fflush(stdout);
        _exit(rc);
    }
    int status = 0;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) return fail("waitpid", NULL);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_FAILED;
}

static int cmd_forks(long wanted) {
    static pid_t children[MAX_FORKS];
    long forked = 0;
    fflush(stdout);
    while (forked < wanted) {
        const pid_t child = fork();
        if (child < 0) break; /* EAGAIN under pids.max: that is what is being measured */
        if (child == 0) {
            for (;;) pause(); /* until the parent kills it */
        }
        children[forked++] = child;
    }
    const int err = forked < wanted ? errno : 0;
    for (long i = 0; i < forked; ++i) kill(children[i], SIGKILL);
    for (long i = 0; i < forked; ++i) {
        while (waitpid(children[i], NULL, 0) < 0 && errno == EINTR) {
        }
    }
    printf("forked=%ld\n", forked);
    if (err != 0) printf("error=%s\n", strerror(err));
    return 0;
}

static double seconds_of(clockid_t clock) {
    struct timespec now;
    clock_gettime(clock, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static int cmd_spin(long seconds) {
    const double start = seconds_of(CLOCK_MONOTONIC);
    const double cpu_start = seconds_of(CLOCK_PROCESS_CPUTIME_ID);
    volatile unsigned long work = 0;
    while (seconds_of(CLOCK_MONOTONIC) - start < (double)seconds) {
        for (int i = 0; i < 100000; ++i) work = work + 1;
    }
    printf("wall=%.3f\ncpu=%.3f\n", seconds_of(CLOCK_MONOTONIC) - start,
           seconds_of(CLOCK_PROCESS_CPUTIME_ID) - cpu_start);
    return 0;
}

static int cmd_alloc(long mebibytes) {
    const size_t size = (size_t)mebibytes * 1024 * 1024;
    const long page = sysconf(_SC_PAGESIZE);
    char* memory = malloc(size);
    if (memory == NULL) return fail("malloc", NULL);
    /* Untouched pages cost nothing: write one byte per page so each is really charged. */
    for (size_t offset = 0; offset < size; offset += (size_t)page) memory[offset] = 1;
    printf("allocated=%ld\n", mebibytes);
    free(memory);
    return 0;
}

static int cmd_alloc_child(long mebibytes) {
    fflush(stdout);
    const pid_t child = fork();
    if (child < 0) return fail("fork", NULL);
    if (child == 0) {
        const int rc = cmd_alloc(mebibytes);
        fflush(stdout);
        _exit(rc);
    }
    int status = 0;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) return fail("waitpid", NULL);
    }
    if (WIFSIGNALED(status)) {
        printf("child_signal=%d\n", WTERMSIG(status));
    } else {
        printf("child_exit=%d\n", WEXITSTATUS(status));
    }
    return 0;
}

static int cmd_fds(void) {
    DIR* dir = opendir("/proc/self/fd");
    if (dir == NULL) return fail("opendir", "/proc/self/fd");
    /* The directory's own descriptor is listed too: it is the probe's, not inherited. */
    const int own = dirfd(dir);
    int fds[1024];
    int count = 0;
    for (const struct dirent* entry; (entry = readdir(dir)) != NULL;) {
        if (!is_number(entry->d_name)) continue;
        const int fd = atoi(entry->d_name);
        if (fd != own && count < (int)(sizeof fds / sizeof fds[0])) fds[count++] = fd;
    }
    closedir(dir);
    /* Sorted, so that the list reads the same whatever the directory's order. */
    for (int i = 1; i < count; ++i) {
        for (int j = i; j > 0 && fds[j - 1] > fds[j]; --j) {
            const int t = fds[j];
            fds[j] = fds[j - 1];
            fds[j - 1] = t;
        }
    }
    printf("fds=");
    for (int i = 0; i < count; ++i) printf("%s%d", i == 0 ? "" : ",", fds[i]);
    printf("\n");
    for (int i = 0; i < count; ++i) {
        char path[64];
        char target[4096];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fds[i]);
        const ssize_t n = readlink(path, target, sizeof target - 1);
        target[n < 0 ? 0 : n] = '\0';
        printf("fd=%d %s\n", fds[i], target);
    }
    return 0;
}

static int readable(const char* path) {
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    close(fd);
    return 1;
}

/* In a child: chroot(2) into whatever the inherited descriptor is, then read MARKER. */
static int escape_by_fd_chroot(const char* dir, const char* marker) {
    fflush(stdout);
    const pid_t child = fork();
    if (child < 0) return 0;
    if (child == 0) {
        if (chroot(dir) != 0 || chdir("/") != 0) _exit(0);
        _exit(readable(marker) ? 1 : 0);
    }
    int status = 0;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) return 0;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 1;
}

static int cmd_fd_escape(long fd, const char* marker) {
    if (marker[0] != '/') return usage("fd-escape: MARKER must be an absolute path");
    const int open_fd = fcntl((int)fd, F_GETFD) >= 0;
    printf("fd=%s\n", open_fd ? "open" : "closed");

    char via_link[4096];
    snprintf(via_link, sizeof via_link, "/proc/self/fd/%ld%s", fd, marker);
    const int by_link = readable(via_link);

    int by_fchdir = 0;
    if (open_fd && fchdir((int)fd) == 0) {
        by_fchdir = readable(marker + 1); /* relative to the descriptor's directory */
        if (chdir("/") != 0) return fail("chdir", "/");
    }

    char dir[64];
    snprintf(dir, sizeof dir, "/proc/self/fd/%ld", fd);
    const int by_chroot = escape_by_fd_chroot(dir, marker);

    printf("escaped=%s\n", by_link || by_fchdir || by_chroot ? "yes" : "no");
    if (by_link) printf("via=proc-fd-link\n");
    if (by_fchdir) printf("via=fchdir\n");
    if (by_chroot) printf("via=chroot\n");
    return 0;
}

/* In a child (so the probe keeps its own root): the classic chroot escape. A runtime that
 * only chroot(2)s is escaped; one that pivot_root(2)s and unmounts the old root is not. */
static int escape_by_chroot(const char* dir, const char* marker) {
    fflush(stdout);
    const pid_t child = fork();
    if (child < 0) return 0;
    if (child == 0) {
        if (chroot(dir) != 0) _exit(0);
        /* The cwd is now outside the new root, so ".." climbs past it. */
        for (int i = 0; i < ESCAPE_CLIMBS; ++i) {
            if (chdir("..") != 0) break;
        }
        if (chroot(".") != 0) _exit(0);
        _exit(readable(marker) ? 1 : 0);
    }
    int status = 0;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) return 0;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 1;
}

static int cmd_escape(const char* marker) {
    if (marker[0] != '/') return usage("escape: MARKER must be an absolute path");
    char dir[] = "/tmp/probe-escape.XXXXXX";
    if (mkdtemp(dir) == NULL) return fail("mkdtemp", dir);
    const int by_chroot = escape_by_chroot(dir, marker);
    rmdir(dir);

    /* /proc/1/root is PID 1's root: the host's if /proc is the host's procfs. */
    char via_proc[4096];
    snprintf(via_proc, sizeof via_proc, "/proc/1/root%s", marker);
    const int by_proc = readable(via_proc);

    printf("escaped=%s\n", by_chroot || by_proc ? "yes" : "no");
    if (by_chroot) printf("via=chroot\n");
    if (by_proc) printf("via=proc\n");
    return 0;
}

static int cmd_ls(const char* path) {
    struct stat st;
    if (lstat(path, &st) != 0) {
        printf("exists=0\n");
        return 0;
    }
    printf("exists=1\n");
    if (!S_ISDIR(st.st_mode)) return 0;
    DIR* dir = opendir(path);
    if (dir == NULL) return fail("opendir", path);
    for (const struct dirent* entry; (entry = readdir(dir)) != NULL;) {
        if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0) {
            printf("entry=%s\n", entry->d_name);
        }
    }
    closedir(dir);
    return 0;
}

static const char* type_of(mode_t mode) {
    if (S_ISREG(mode)) return "reg";
    if (S_ISDIR(mode)) return "dir";
    if (S_ISCHR(mode)) return "chr";
    if (S_ISBLK(mode)) return "blk";
    if (S_ISLNK(mode)) return "lnk";
    if (S_ISFIFO(mode)) return "fifo";
    if (S_ISSOCK(mode)) return "sock";
    return "unknown";
}

static int cmd_stat(const char* path) {
    struct stat st;
    if (stat(path, &st) != 0) return fail("stat", path);
    printf("type=%s\nmode=%04o\nuid=%u\ngid=%u\nsize=%lld\n", type_of(st.st_mode),
           (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)st.st_gid,
           (long long)st.st_size);
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
        printf("major=%u\nminor=%u\n", major(st.st_rdev), minor(st.st_rdev));
    }
    return 0;
}

static int cmd_write(const char* path, const char* text) {
    const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return fail("open", path);
    const size_t length = strlen(text);
    const ssize_t n = write(fd, text, length);
    if (n < 0 || (size_t)n != length) {
        close(fd);
        return fail("write", path);
    }
    if (close(fd) != 0) return fail("close", path);
    return 0;
}

static int print_errno(const char* key, int failed) {
    printf("%s=%d\n", key, failed ? errno : 0);
    return 0;
}

static int cmd_add_key(void) {
    static const char payload[] = "x";
    /* KEY_SPEC_PROCESS_KEYRING (-2): no keyutils header in a static build. */
    const long rc = syscall(SYS_add_key, "user", "mydocker-probe", payload, sizeof payload - 1, -2);
    return print_errno("errno", rc < 0);
}

static int cmd_mount_cgroup(const char* dir) {
    if (mount("cgroup", dir, "cgroup", 0, "memory") == 0) return print_errno("errno", 0);
    return print_errno("errno", mount("cgroup2", dir, "cgroup2", 0, NULL) != 0);
}

static int cmd_mknod(const char* path, const char* device) {
    unsigned maj = 0, min = 0;
    if (sscanf(device, "%u:%u", &maj, &min) != 2) return usage("mknod: expected MAJOR:MINOR");
    if (mknod(path, S_IFBLK | 0600, makedev(maj, min)) != 0) return print_errno("errno", 1);
    print_errno("errno", 0);
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    print_errno("open_errno", fd < 0);
    if (fd >= 0) close(fd);
    unlink(path);
    return 0;
}

static int dispatch(int argc, char** argv) {
    if (argc < 2) return usage("missing subcommand");
    const char* cmd = argv[1];
    const char* arg = argc > 2 ? argv[2] : NULL;
    const long number = arg ? parse_number(arg) : -1;

    if (strcmp(cmd, "pid") == 0) return cmd_pid();
    if (strcmp(cmd, "hostname") == 0) return cmd_hostname();
    if (strcmp(cmd, "ns") == 0) return cmd_ns();
    if (strcmp(cmd, "cgroup") == 0) return cat("/proc/self/cgroup");
    if (strcmp(cmd, "mountinfo") == 0) return cat("/proc/self/mountinfo");
    if (strcmp(cmd, "pids") == 0) return cmd_pids();
    if (strcmp(cmd, "env") == 0) return cmd_env();
    if (strcmp(cmd, "segv") == 0) return cmd_segv();
    if (strcmp(cmd, "fork-child") == 0) return cmd_fork_child();
    if (strcmp(cmd, "fds") == 0) return cmd_fds();
    if (strcmp(cmd, "add-key") == 0) return cmd_add_key();

    if (arg == NULL) return usage("unknown subcommand, or its argument is missing");
    if (strcmp(cmd, "hold") == 0) return cmd_hold(arg);
    if (strcmp(cmd, "escape") == 0) return cmd_escape(arg);
    if (strcmp(cmd, "ls") == 0) return cmd_ls(arg);
    if (strcmp(cmd, "stat") == 0) return cmd_stat(arg);
    if (strcmp(cmd, "read") == 0) return cat(arg);
    if (strcmp(cmd, "mount-proc") == 0) {
        return print_errno("errno", mount("proc", arg, "proc", 0, NULL) != 0);
    }
    if (strcmp(cmd, "mount-cgroup") == 0) return cmd_mount_cgroup(arg);
    if (strcmp(cmd, "mknod") == 0) {
        if (argc < 4) return usage("mknod: expected PATH MAJOR:MINOR");
        return cmd_mknod(arg, argv[3]);
    }
    if (strcmp(cmd, "write") == 0) {
        if (argc < 4) return usage("write: missing TEXT");
        return cmd_write(arg, argv[3]);
    }
    if (strcmp(cmd, "fd-escape") == 0) {
        if (argc < 4 || number < 0) return usage("fd-escape: expected FD MARKER");
        return cmd_fd_escape(number, argv[3]);
    }

    const int numeric = strcmp(cmd, "exit") == 0 || strcmp(cmd, "sleep") == 0 ||
                        strcmp(cmd, "forks") == 0 || strcmp(cmd, "spin") == 0 ||
                        strcmp(cmd, "alloc") == 0 || strcmp(cmd, "alloc-child") == 0;
    if (!numeric) return usage("unknown subcommand");
    if (number < 0) return usage("expected a non-negative number");
    if (strcmp(cmd, "exit") == 0) return (int)(number & 0xff);
    if (strcmp(cmd, "sleep") == 0) return sleep((unsigned)number) == 0 ? 0 : EXIT_FAILED;
    if (strcmp(cmd, "forks") == 0) {
        if (number > MAX_FORKS) return usage("forks: at most 4096");
        return cmd_forks(number);
    }
    if (strcmp(cmd, "spin") == 0) return cmd_spin(number);
    if (strcmp(cmd, "alloc-child") == 0) return cmd_alloc_child(number);
    return cmd_alloc(number);
}

int main(int argc, char** argv) {
    const int rc = dispatch(argc, argv);
    /* The probe's output is read after it exits: make sure all of it is written. */
    if (fflush(stdout) != 0) return EXIT_FAILED;
    return rc;
}
