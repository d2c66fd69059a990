// SPDX-License-Identifier: GPL-2.0
/* fh's XDP steering program: IPv4 UDP packets to a configured feed line
 * (group, port), with at most one VLAN tag, go to the AF_XDP socket of the
 * queue they arrived on; everything else, and a feed packet on a queue without
 * a socket, goes on to the kernel unchanged. It never drops. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>

// After the kernel's headers, whose types they use.
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "fh_steer_kern_user.h"

struct vlan_hdr {
	__be16 tci;
	__be16 encapsulated_proto;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FH_MAX_LINES);
	__type(key, struct fh_line_key);
	__type(value, struct fh_line_value);
} fh_lines SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, FH_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} fh_xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FH_REASON_COUNT);
	__type(key, __u32);
	__type(value, struct fh_counter);
} fh_stats SEC(".maps");

static __always_inline int verdict(struct xdp_md *ctx, __u32 reason, int action)
{
	struct fh_counter *c = bpf_map_lookup_elem(&fh_stats, &reason);

	if (c) {
		c->packets++;
		c->bytes += ctx->data_end - ctx->data;
	}
	return action;
}

SEC("xdp")
int fh_steer(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	void *next = eth + 1;
	__u16 proto;

	if (next > data_end)
		return verdict(ctx, FH_PASS_MALFORMED, XDP_PASS);
	proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		struct vlan_hdr *vlan = next;

		if ((void *)(vlan + 1) > data_end)
			return verdict(ctx, FH_PASS_MALFORMED, XDP_PASS);
		proto = vlan->encapsulated_proto;
		next = vlan + 1;
	}
	if (proto != bpf_htons(ETH_P_IP))
		return verdict(ctx, FH_PASS_NOT_IPV4, XDP_PASS);

	struct iphdr *ip = next;
	if ((void *)(ip + 1) > data_end || ip->version != 4 || ip->ihl < 5)
		return verdict(ctx, FH_PASS_MALFORMED, XDP_PASS);
	if (ip->frag_off & bpf_htons(0x3FFF)) /* MF set, or an offset */
		return verdict(ctx, FH_PASS_FRAGMENT, XDP_PASS);
	if (ip->protocol != IPPROTO_UDP)
		return verdict(ctx, FH_PASS_NOT_UDP, XDP_PASS);

	struct udphdr *udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > data_end)
		return verdict(ctx, FH_PASS_MALFORMED, XDP_PASS);
	if (bpf_ntohs(udp->len) < sizeof(*udp) || (void *)udp + bpf_ntohs(udp->len) > data_end)
		return verdict(ctx, FH_PASS_MALFORMED, XDP_PASS);

	struct fh_line_key key = {.group = ip->daddr, .port = udp->dest, .pad = 0};
	if (!bpf_map_lookup_elem(&fh_lines, &key))
		return verdict(ctx, FH_PASS_OTHER_LINE, XDP_PASS);

	__u32 queue = ctx->rx_queue_index;
	if (!bpf_map_lookup_elem(&fh_xsks, &queue))
		return verdict(ctx, FH_PASS_NO_SOCKET, XDP_PASS);
	/* The socket may go between the lookup and here: then XDP_PASS too. */
	int action = bpf_redirect_map(&fh_xsks, queue, XDP_PASS);
	return verdict(ctx, action == XDP_REDIRECT ? FH_REDIRECTED : FH_PASS_NO_SOCKET, action);
}

char _license[] SEC("license") = "GPL";
