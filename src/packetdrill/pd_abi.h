/*
 * pd_abi.h - the shared-object interface of the packetdrill test tool, as our side declares it.
 *
 * packetdrill (github.com/google/packetdrill) can test a TCP stack that lives in a shared object
 * instead of the kernel: it dlopen()s the file named by --so_filename, looks up the symbol
 * packetdrill_interface_init, calls it once with the string given by --so_flags and a table of
 * function pointers to fill in, and from then on makes every socket call of the script, every
 * packet injection and capture, and every look at the clock through that table, passing back
 * the userdata pointer the object put in it.
 *
 * The source of this ABI is packetdrill's gtests/net/packetdrill/packetdrill.h (struct
 * packetdrill_interface and the packetdrill_interface_init_t type); the loader is
 * so_testing.c in the same directory. The member order, the parameter lists and the return
 * conventions below follow that header exactly, because they are the binary interface; the
 * declarations and the comments are ours. Where the tool's header uses a type our strict POSIX
 * build does not expose, a type of the same size and representation stands in for it, and the
 * comment says so: loff_t is a signed 64-bit integer on Linux, useconds_t is unsigned int in
 * glibc, and struct timezone and struct epoll_event are only ever passed by pointer.
 *
 * Conventions of the interface: socket calls return what the system calls return (-1 with
 * errno set on failure), so the tool can compare results and errno values with the script.
 * netdev_send and netdev_receive carry whole IPv4 (or IPv6) datagrams without a link header.
 */
#ifndef HANDOFF_PD_ABI_H
#define HANDOFF_PD_ABI_H

#include <stdint.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>

struct timezone;    /* only passed through (gettimeofday) */
struct epoll_event; /* only passed through (epoll_ctl, epoll_wait) */

typedef unsigned int pd_useconds_t; /* glibc's useconds_t */
typedef int64_t pd_loff_t;          /* Linux's loff_t */

/*
 * The table the shared object fills in. Every function gets userdata first. Members left NULL
 * would crash the tool when a script uses them, so an implementation sets every one.
 */
struct packetdrill_interface {
    void *userdata;               /* the object's state, passed back to every call */
    void (*free)(void *userdata); /* called once when the script ends */
    int (*socket)(void *userdata, int domain, int type, int protocol);
    int (*bind)(void *userdata, int sockfd, const struct sockaddr *addr, socklen_t addrlen);
    int (*listen)(void *userdata, int sockfd, int backlog);
    int (*accept)(void *userdata, int sockfd, struct sockaddr *addr, socklen_t *addrlen);
    int (*connect)(void *userdata, int sockfd, const struct sockaddr *addr, socklen_t addrlen);
    ssize_t (*read)(void *userdata, int fd, void *buf, size_t count);
    ssize_t (*readv)(void *userdata, int fd, const struct iovec *iov, int iovcnt);
    ssize_t (*recv)(void *userdata, int sockfd, void *buf, size_t len, int flags);
    ssize_t (*recvfrom)(void *userdata, int sockfd, void *buf, size_t len, int flags,
                        struct sockaddr *src_addr, socklen_t *addrlen);
    ssize_t (*recvmsg)(void *userdata, int sockfd, struct msghdr *msg, int flags);
    ssize_t (*write)(void *userdata, int fd, const void *buf, size_t count);
    ssize_t (*writev)(void *userdata, int fd, const struct iovec *iov, int iovcnt);
    ssize_t (*send)(void *userdata, int sockfd, const void *buf, size_t len, int flags);
    ssize_t (*sendto)(void *userdata, int sockfd, const void *buf, size_t len, int flags,
                      const struct sockaddr *dest_addr, socklen_t addrlen);
    ssize_t (*sendmsg)(void *userdata, int sockfd, const struct msghdr *msg, int flags);
    int (*fcntl)(void *userdata, int fd, int cmd, ...);               /* one optional int arg */
    int (*ioctl)(void *userdata, int fd, unsigned long request, ...); /* one pointer arg */
    int (*close)(void *userdata, int fd);
    int (*shutdown)(void *userdata, int sockfd, int how);
    int (*getsockopt)(void *userdata, int sockfd, int level, int optname, void *optval,
                      socklen_t *optlen);
    int (*setsockopt)(void *userdata, int sockfd, int level, int optname, const void *optval,
                      socklen_t optlen);
    int (*poll)(void *userdata, struct pollfd *fds, nfds_t nfds, int timeout);
    /* The tool hands the stack one inbound datagram of count bytes. 0 on success, -1 on
     * error. */
    int (*netdev_send)(void *userdata, const void *buf, size_t count);
    /* The tool asks for the next outbound datagram: at most *count bytes into buf, the length
     * written back to *count (0 when there is nothing), the moment it left in *time_usecs
     * (on the clock gettimeofday reports). 0 on success, -1 on error; note that the tool
     * calls again at once after -1 or after a datagram it cannot parse. */
    int (*netdev_receive)(void *userdata, void *buf, size_t *count, long long *time_usecs);
    int (*usleep)(void *userdata, pd_useconds_t usec); /* the tool waits on our clock */
    int (*gettimeofday)(void *userdata, struct timeval *tv, struct timezone *tz);
    int (*epoll_create)(void *userdata, int size);
    int (*epoll_ctl)(void *userdata, int epfd, int op, int fd, struct epoll_event *event);
    int (*epoll_wait)(void *userdata, int epfd, struct epoll_event *events, int maxevents,
                      int timeout);
    int (*pipe)(void *userdata, int pipefd[2]);
    int (*splice)(void *userdata, int fd_in, pd_loff_t *off_in, int fd_out, pd_loff_t *off_out,
                  size_t len, unsigned int flags);
};

/*
 * The one symbol the tool looks up. flags is the --so_flags string (NULL when the option was
 * not given); ifc is the table to fill. It returns nothing, so an object that cannot start
 * must still fill every member and fail the calls.
 */
void packetdrill_interface_init(const char *flags, struct packetdrill_interface *ifc);

#endif
