// The Linux system calls Glibc's Swift overlay does not export: epoll, accept4, and TCP_INFO's newer fields.
// Thin wrappers with plain (unpacked) types, so Swift never touches the packed `struct epoll_event`.
#ifndef SSEKEEPER_CEPOLL_H
#define SSEKEEPER_CEPOLL_H

#include <stdint.h>

/// One readiness report: the epoll event bits and the 64-bit token given at registration.
typedef struct {
    uint32_t events;
    uint64_t token;
} ssk_poll_event;

/// The epoll bits ssekeeper uses (same values as <sys/epoll.h>).
enum {
    SSK_EPOLLIN = 0x001,
    SSK_EPOLLOUT = 0x004,
    SSK_EPOLLERR = 0x008,
    SSK_EPOLLHUP = 0x010,
    SSK_EPOLLRDHUP = 0x2000,
    SSK_EPOLLET = (int)(1u << 31),
};

/// `epoll_create1(EPOLL_CLOEXEC)`; -1 and errno on failure.
int ssk_epoll_create(void);

/// `epoll_ctl(EPOLL_CTL_ADD)` of `fd` for `events`, reported with `token`; 0, or -1 and errno.
int ssk_epoll_add(int epfd, int fd, uint32_t events, uint64_t token);

/// `epoll_ctl(EPOLL_CTL_MOD)`; 0, or -1 and errno.
int ssk_epoll_modify(int epfd, int fd, uint32_t events, uint64_t token);

/// `epoll_wait` into `out` (at most `capacity`, which must be <= 1024); the count, or -1 and errno.
int ssk_epoll_wait(int epfd, ssk_poll_event *out, int capacity, int timeout_ms);

/// `accept4(fd, peer, length, SOCK_NONBLOCK | SOCK_CLOEXEC)`: the new descriptor (and the peer's address, so no
/// `getpeername` follows), or -1 and errno.
int ssk_accept(int fd, void *peer, uint32_t *length);

/// `eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)`; -1 and errno on failure.
int ssk_eventfd(void);

/// How far a TCP peer has read what was sent: `*acked` is the running total of bytes it acknowledged
/// (`TCP_INFO`'s `tcpi_bytes_acked`, Linux 4.1+), `*outstanding` the bytes in the send queue, sent or not, that it
/// has not acknowledged (`SIOCOUTQ`), `*peer_window` the receive window it last advertised (`tcpi_snd_wnd`, Linux
/// 5.4+; -1 when unknown or not read). When nothing is outstanding, `*acked` is left as the caller set it (one system
/// call instead of two on a healthy connection). 0, or -1 and errno. Glibc's `struct tcp_info` lacks the newer
/// fields, hence C.
int ssk_tcp_send_progress(int fd, uint64_t *acked, int32_t *outstanding, int64_t *peer_window);

/// The number of CPUs in the calling thread's affinity mask (`sched_getaffinity`, `CPU_COUNT`), which `taskset`,
/// systemd's `CPUAffinity=` and a cgroup cpuset restrict; -1 with errno set when it cannot be read.
int ssk_affinity_cpu_count(void);

/// Names the calling thread (`pthread_setname_np`, at most 15 bytes); 0 or an errno.
int ssk_set_thread_name(const char *name);

#endif
