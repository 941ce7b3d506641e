/* isolate.c — decoding untrusted audio in a child process, so that a hang, a
 * crash or a memory blow-up inside libsndfile or a codec cannot take the
 * caller (the server) with it.
 *
 * Two ways to start the child. With an executable (audio_isolation.exe, the
 * server passes its own binary): the upload is copied into a memfd, and
 * posix_spawn (no page-table copy) runs `exe AUDIO_DECODER_ARG ...` with the
 * memfd as stdin and the result pipe as stdout; its main calls
 * audio_decoder_main. Without one: fork (no exec), which shares the parent's
 * pages copy-on-write but copies the page tables of its anonymous memory (see
 * DESIGN.md, "Untrusted audio"). Either child dies with its parent, runs
 * under RLIMIT_CPU and RLIMIT_AS, runs audio_decode_memory and writes a fixed
 * header (result code, message, PCM description) and the samples to the
 * pipe. The parent reads with a wall-clock deadline and kills the child when
 * it passes. A forked child touches only malloc, libsndfile and libsoxr
 * (single-threaded, no locks shared with other threads) and never logs. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audio/audio.h"
#include "base/error.h"

#if defined(__SANITIZE_ADDRESS__)
#define ISOLATE_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ISOLATE_SANITIZED 1
#endif
#endif

/* What the child sends before the samples. */
typedef struct {
    int32_t rc;
    int32_t sample_rate, source_rate, source_channels;
    uint64_t n_samples;
    char source_format[96];
    char err[TRIDENT_ERR_SIZE];
} isolate_header;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int write_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

#ifndef ISOLATE_SANITIZED
/* The address space in use now (bytes), from /proc/self/statm; 0 if unknown. */
static size_t vm_size_now(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long pages = 0;
    int ok = fscanf(f, "%lu", &pages) == 1;
    fclose(f);
    return ok ? pages * (size_t)sysconf(_SC_PAGESIZE) : 0;
}
#endif

static void child_limits(double cpu_s, size_t memory) {
    struct rlimit cpu = {(rlim_t)cpu_s + 1, (rlim_t)cpu_s + 2};
    setrlimit(RLIMIT_CPU, &cpu);
#ifndef ISOLATE_SANITIZED
    size_t vm = vm_size_now();
    if (vm) {
        struct rlimit as = {vm + memory, vm + memory};
        setrlimit(RLIMIT_AS, &as);
    }
#else
    (void)memory;
#endif
}

/* Decodes data under the limits and writes the result to fd. Returns the
 * child's exit status. */
static int child_decode(int fd, const void *data, size_t size, const audio_decode_options *opts, double cpu_s,
                        size_t memory) {
    child_limits(cpu_s, memory);
    isolate_header h;
    memset(&h, 0, sizeof h);
    audio_pcm pcm;
    h.rc = audio_decode_memory(data, size, opts, &pcm, h.err, sizeof h.err);
    if (h.rc == 0) {
        h.sample_rate = pcm.sample_rate;
        h.source_rate = pcm.source_rate;
        h.source_channels = pcm.source_channels;
        h.n_samples = pcm.n_samples;
        memcpy(h.source_format, pcm.source_format, sizeof h.source_format);
    }
    int bad = write_all(fd, &h, sizeof h);
    if (!bad && h.rc == 0) bad = write_all(fd, pcm.samples, pcm.n_samples * sizeof(float));
    audio_pcm_clear(&pcm);
    return bad ? 3 : 0;
}

int audio_decoder_main(int argc, char **argv) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1) return 2; /* the parent is already gone */
    if (argc != 6) return 2;
    audio_decode_options opts = {.target_rate = atoi(argv[2]), .max_seconds = atof(argv[3])};
    double cpu_s = atof(argv[4]);
    size_t memory = (size_t)strtoull(argv[5], NULL, 10);
    struct stat st;
    if (fstat(0, &st) != 0 || st.st_size <= 0) return 2;
    void *data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, 0, 0);
    if (data == MAP_FAILED) return 2;
    int rc = child_decode(1, data, (size_t)st.st_size, &opts, cpu_s, memory);
    munmap(data, (size_t)st.st_size);
    return rc;
}

/* Starts `exe AUDIO_DECODER_ARG ...` with data on stdin (a memfd) and out_fd
 * as stdout. Returns the pid or -1 with err. */
static pid_t decoder_spawn(const char *exe, const void *data, size_t size, int out_fd, int target, double max_s,
                           double cpu_s, size_t memory, char *err, size_t err_size) {
    extern char **environ;
    int in_fd = memfd_create("trident-upload", MFD_CLOEXEC);
    if (in_fd < 0 || write_all(in_fd, data, size) != 0) {
        error_set(err, err_size, TRIDENT_EIO, "cannot start the audio decoder: memfd: %s", strerror(errno));
        if (in_fd >= 0) close(in_fd);
        return -1;
    }
    char a_rate[32], a_max[64], a_cpu[64], a_mem[32];
    snprintf(a_rate, sizeof a_rate, "%d", target);
    snprintf(a_max, sizeof a_max, "%.17g", max_s);
    snprintf(a_cpu, sizeof a_cpu, "%.17g", cpu_s);
    snprintf(a_mem, sizeof a_mem, "%zu", memory);
    char *argv[] = {(char *)exe, AUDIO_DECODER_ARG, a_rate, a_max, a_cpu, a_mem, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    pid_t pid = -1;
    int rc = posix_spawn_file_actions_init(&fa);
    if (rc == 0) {
        posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
        posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0); /* codecs' warnings */
        if ((rc = posix_spawnattr_init(&attr)) == 0) {
            posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
            posix_spawnattr_setsigdefault(&attr, &all);
            posix_spawnattr_setsigmask(&attr, &none);
            rc = posix_spawn(&pid, exe, &fa, &attr, argv, environ);
            posix_spawnattr_destroy(&attr);
        }
        posix_spawn_file_actions_destroy(&fa);
    }
    close(in_fd);
    if (rc != 0) {
        error_set(err, err_size, TRIDENT_EIO, "cannot start the audio decoder %s: %s", exe, strerror(rc));
        return -1;
    }
    return pid;
}

/* Reads n bytes before the deadline. Returns 0, 1 (end of stream) or -1 (timeout/error). */
static int read_until(int fd, void *p, size_t n, double deadline) {
    char *c = p;
    while (n) {
        double left = deadline - now_s();
        if (left <= 0) return -1;
        struct pollfd pf = {fd, POLLIN, 0};
        int pr = poll(&pf, 1, (int)(left * 1000) + 1);
        if (pr < 0 && errno == EINTR) continue;
        if (pr <= 0) return -1;
        ssize_t r = read(fd, c, n);
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (r < 0) return -1;
        if (r == 0) return 1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

int audio_decode_memory_isolated(const void *data, size_t size, const audio_decode_options *opts,
                                 const audio_isolation *iso, audio_pcm *out, char *err, size_t err_size) {
    memset(out, 0, sizeof *out);
    double max_s = opts && opts->max_seconds > 0 ? opts->max_seconds : AUDIO_DEFAULT_MAX_SECONDS;
    int target = opts && opts->target_rate > 0 ? opts->target_rate : AUDIO_SAMPLE_RATE;
    double wall = iso && iso->max_wall_s > 0 ? iso->max_wall_s : 10.0 + max_s / 100.0;
    /* the output, the resampler's growth (doubling), the codec's buffers */
    double out_bytes = (max_s + 1) * target * sizeof(float);
    size_t memory = iso && iso->max_memory_bytes ? iso->max_memory_bytes
                                                  : (size_t)(3 * out_bytes) + size + ((size_t)256 << 20);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return error_set(err, err_size, TRIDENT_EIO, "cannot start the audio decoder: pipe: %s", strerror(errno));
    pid_t pid;
    if (iso && iso->exe) {
        pid = decoder_spawn(iso->exe, data, size, fds[1], target, max_s, wall, memory, err, err_size);
        if (pid < 0) {
            close(fds[0]);
            close(fds[1]);
            return TRIDENT_EIO;
        }
    } else {
        pid = fork();
        if (pid < 0) {
            int e = errno;
            close(fds[0]);
            close(fds[1]);
            return error_set(err, err_size, e == ENOMEM || e == EAGAIN ? TRIDENT_ENOMEM : TRIDENT_EIO,
                             "cannot start the audio decoder: fork: %s", strerror(e));
        }
        if (pid == 0) {
            close(fds[0]);
            /* other threads' pipes and the server's sockets stay with the parent */
            int fd = fds[1];
            if (fd > 3) close_range(3, (unsigned)fd - 1, 0);
            close_range((unsigned)fd + 1, ~0U, 0);
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            _exit(child_decode(fd, data, size, opts, wall, memory));
        }
    }
    close(fds[1]);
    double deadline = now_s() + wall;
    isolate_header h;
    int rc = read_until(fds[0], &h, sizeof h, deadline);
    int timed_out = rc < 0;
    float *samples = NULL;
    size_t cap = (size_t)((max_s + 1) * target) + 1;
    if (rc == 0 && h.rc == 0) {
        if (h.n_samples == 0 || h.n_samples > cap || h.sample_rate != target) {
            rc = -2;
        } else if (!(samples = malloc((size_t)h.n_samples * sizeof(float)))) {
            rc = -3;
        } else {
            rc = read_until(fds[0], samples, (size_t)h.n_samples * sizeof(float), deadline);
            timed_out = rc < 0;
        }
    }
    close(fds[0]);
    if (timed_out || rc != 0) kill(pid, SIGKILL);
    int status = 0;
    pid_t w;
    while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {}
    int signaled = w == pid && WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    if (rc == 0 && h.rc == TRIDENT_ENOMEM)
        return error_set(err, err_size, TRIDENT_EFORMAT,
                         "the uploaded audio could not be decoded within the memory bound of %zu MB for %.0f s of "
                         "audio (a malformed or too costly file)",
                         memory >> 20, max_s);
    if (rc == 0 && h.rc != 0) {
        h.err[sizeof h.err - 1] = '\0';
        return error_set(err, err_size, h.rc, "%s", h.err);
    }
    if (rc == 0) {
        out->samples = samples;
        out->n_samples = (size_t)h.n_samples;
        out->sample_rate = h.sample_rate;
        out->source_rate = h.source_rate;
        out->source_channels = h.source_channels;
        h.source_format[sizeof h.source_format - 1] = '\0';
        memcpy(out->source_format, h.source_format, sizeof out->source_format);
        return TRIDENT_OK;
    }
    free(samples);
    if (rc == -3) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory receiving the decoded audio");
    if (timed_out || signaled == SIGXCPU)
        return error_set(err, err_size, TRIDENT_EFORMAT,
                         "the uploaded audio could not be decoded within %g s (a malformed or too costly file); "
                         "accepted formats: %s",
                         wall, AUDIO_ACCEPTED_FORMATS);
    if (signaled)
        return error_set(err, err_size, TRIDENT_EFORMAT,
                         "the uploaded audio could not be decoded: the decoder stopped with signal %d (%s; a "
                         "malformed file or over the memory bound); accepted formats: %s",
                         signaled, strsignal(signaled), AUDIO_ACCEPTED_FORMATS);
    return error_set(err, err_size, TRIDENT_EFORMAT,
                     "the uploaded audio could not be decoded: the decoder process failed (%s)",
                     rc == -2 ? "inconsistent result" : "no result");
}
