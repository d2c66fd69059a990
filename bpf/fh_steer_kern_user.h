/* What the XDP steering program (fh_steer.bpf.c) and the daemon share: the
 * key and value of the feed-line table, the reasons behind each verdict and
 * the per-CPU counters. Plain C, included by the BPF side and by C++
 * (lib/xsk), which static_asserts the sizes. */
#ifndef FH_STEER_KERN_USER_H
#define FH_STEER_KERN_USER_H

#include <linux/types.h>

/* A feed line: IPv4 destination group and UDP port, in network byte order. */
struct fh_line_key {
	__be32 group;
	__be16 port;
	__u16 pad; /* zero */
};

struct fh_line_value {
	__u32 line_id; /* the daemon's index of the line */
	__u32 feed_id;
};

/* Why a packet got its verdict; one counter of each per CPU. */
enum fh_reason {
	FH_REDIRECTED = 0,  /* a feed line, into the AF_XDP socket of its queue */
	FH_PASS_NO_SOCKET,  /* a feed line, but no socket on this queue: to the kernel */
	FH_PASS_NOT_IPV4,   /* ARP, IPv6, ... */
	FH_PASS_FRAGMENT,   /* IPv4 fragment: the kernel reassembles */
	FH_PASS_NOT_UDP,    /* IGMP, TCP, ICMP, ... */
	FH_PASS_OTHER_LINE, /* UDP to a group and port that is not a feed line */
	FH_PASS_MALFORMED,  /* headers cut short or inconsistent */
	FH_REASON_COUNT,
};

struct fh_counter {
	__u64 packets;
	__u64 bytes;
};

#define FH_MAX_LINES 256
#define FH_MAX_QUEUES 64

#endif
