#define _GNU_SOURCE
#include "CEpoll.h"

#include <errno.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <linux/sockios.h>
#include <sched.h>
#include <pthread.h>

int ssk_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int ssk_epoll_add(int epfd, int fd, uint32_t events, uint64_t token) {
    struct epoll_event event = { .events = events, .data.u64 = token };
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
}

int ssk_epoll_modify(int epfd, int fd, uint32_t events, uint64_t token) {
    struct epoll_event event = { .events = events, .data.u64 = token };
    return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &event);
}

int ssk_epoll_wait(int epfd, ssk_poll_event *out, int capacity, int timeout_ms) {
    struct epoll_event events[1024];
    if (capacity > 1024) capacity = 1024;
    int count = epoll_wait(epfd, events, capacity, timeout_ms);
    for (int i = 0; i < count; i++) {
        out[i].events = events[i].events;
        out[i].token = events[i].data.u64;
    }
    return count;
}

int ssk_accept(int fd, void *peer, uint32_t *length) {
    return accept4(fd, (struct sockaddr *)peer, (socklen_t *)length, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int ssk_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int ssk_tcp_send_progress(int fd, uint64_t *acked, int32_t *outstanding, int64_t *peer_window) {
    *peer_window = -1;
    int queued = 0;
    if (ioctl(fd, SIOCOUTQ, &queued) != 0) return -1;
    *outstanding = queued;
    if (queued == 0) return 0;  // nothing outstanding: *acked is left as the caller passed it
    struct tcp_info info;
    socklen_t length = sizeof(info);
    memset(&info, 0, sizeof(info));
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return -1;
    if (length < offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof(info.tcpi_bytes_acked)) {
        errno = EOPNOTSUPP;  // a kernel older than 4.1: no acknowledged total to watch
        return -1;
    }
    *acked = info.tcpi_bytes_acked;
    if (length >= offsetof(struct tcp_info, tcpi_snd_wnd) + sizeof(info.tcpi_snd_wnd)) {
        *peer_window = info.tcpi_snd_wnd;  // Linux 5.4+
    }
    return 0;
}

int ssk_affinity_cpu_count(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return -1;
    return CPU_COUNT(&set);
}

int ssk_set_thread_name(const char *name) {
    return pthread_setname_np(pthread_self(), name);
}
