// Soft quarantine: the programs attached to the quarantine cgroup, which keep its processes off the network
// except for allowlisted address prefixes.
//
// The sock_addr programs refuse connect() and unconnected sendmsg() to other addresses (the caller gets
// EPERM); the skb programs drop any other IPv4 or IPv6 packet in or out of the cgroup's sockets, so a
// listener opened inside gets no connections either. Everything that is not IP (and Unix sockets, which
// never reach these hooks) passes. The allowlist matches addresses only, not ports.
//
// The kernel ties a socket to the cgroup of the process that created it, so sockets opened before the
// process was moved in are not filtered.

// The integer types first: <linux/bpf.h> (struct bpf_sock_addr, struct __sk_buff) needs them.
#include "vigil_bpf_types.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

// An allowlist key: an LPM trie key (prefix length, then the address). IPv4 addresses are stored as
// IPv4-mapped IPv6 (::ffff:a.b.c.d), so one trie holds both families; a /8 IPv4 prefix is /104.
struct quarantine_key {
    __u32 prefixlen;
    __u32 address[4]; // network byte order
};

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 1024);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct quarantine_key);
    __type(value, __u8);
} quarantine_allow SEC(".maps");

// Counters, per CPU so no atomics are needed: summed by user space.
enum {
    QUARANTINE_DENIED_CONNECTIONS = 0,
    QUARANTINE_DROPPED_PACKETS = 1,
    QUARANTINE_COUNTERS = 2,
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, QUARANTINE_COUNTERS);
    __type(key, __u32);
    __type(value, __u64);
} quarantine_counters SEC(".maps");

static __always_inline void count(__u32 index) {
    __u64 *value = bpf_map_lookup_elem(&quarantine_counters, &index);
    if (value)
        *value += 1;
}

static __always_inline int allowed(struct quarantine_key *key) {
    key->prefixlen = 128;
    return bpf_map_lookup_elem(&quarantine_allow, key) != NULL;
}

static __always_inline int allowed4(__u32 address) {
    struct quarantine_key key = {};
    key.address[2] = bpf_htonl(0x0000ffff);
    key.address[3] = address;
    return allowed(&key);
}

// 1 lets the call through; 0 makes connect() or sendmsg() fail with EPERM.
static __always_inline int decide4(struct bpf_sock_addr *ctx) {
    if (allowed4(ctx->user_ip4))
        return 1;
    count(QUARANTINE_DENIED_CONNECTIONS);
    return 0;
}

static __always_inline int decide6(struct bpf_sock_addr *ctx) {
    struct quarantine_key key = {};
    // The context allows only 32-bit reads of user_ip6.
    key.address[0] = ctx->user_ip6[0];
    key.address[1] = ctx->user_ip6[1];
    key.address[2] = ctx->user_ip6[2];
    key.address[3] = ctx->user_ip6[3];
    if (allowed(&key))
        return 1;
    count(QUARANTINE_DENIED_CONNECTIONS);
    return 0;
}

SEC("cgroup/connect4")
int quarantine_connect4(struct bpf_sock_addr *ctx) { return decide4(ctx); }

SEC("cgroup/connect6")
int quarantine_connect6(struct bpf_sock_addr *ctx) { return decide6(ctx); }

SEC("cgroup/sendmsg4")
int quarantine_sendmsg4(struct bpf_sock_addr *ctx) { return decide4(ctx); }

SEC("cgroup/sendmsg6")
int quarantine_sendmsg6(struct bpf_sock_addr *ctx) { return decide6(ctx); }

// EtherType values of skb->protocol (from <linux/if_ether.h>, which needs the same types).
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

// Offsets in the IP headers; a cgroup skb starts at the network header.
#define IPV4_SOURCE_OFFSET 12
#define IPV4_DESTINATION_OFFSET 16
#define IPV6_SOURCE_OFFSET 8
#define IPV6_DESTINATION_OFFSET 24

// 1 passes the packet, 0 drops it. `egress` picks the peer: the destination going out, the source coming in.
static __always_inline int filter(struct __sk_buff *skb, int egress) {
    struct quarantine_key key = {};
    if (skb->protocol == bpf_htons(ETH_P_IP)) {
        __u32 address;
        if (bpf_skb_load_bytes(skb, egress ? IPV4_DESTINATION_OFFSET : IPV4_SOURCE_OFFSET, &address, 4) < 0)
            goto drop;
        key.address[2] = bpf_htonl(0x0000ffff);
        key.address[3] = address;
    } else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
        if (bpf_skb_load_bytes(skb, egress ? IPV6_DESTINATION_OFFSET : IPV6_SOURCE_OFFSET, key.address, 16) < 0)
            goto drop;
    } else {
        return 1;
    }
    if (allowed(&key))
        return 1;
drop:
    count(QUARANTINE_DROPPED_PACKETS);
    return 0;
}

SEC("cgroup_skb/egress")
int quarantine_egress(struct __sk_buff *skb) { return filter(skb, 1); }

SEC("cgroup_skb/ingress")
int quarantine_ingress(struct __sk_buff *skb) { return filter(skb, 0); }
