// SPDX-License-Identifier: GPL-2.0
/* Reading a live socket; see sock.h. */
#include <linux/string.h>
#include <net/af_unix.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#include <net/sock_reuseport.h>

#include "sock.h"

bool aq_sock_trackable(const struct sock *sk)
{
	/* A UDP socket is in its table from bind() to close(). */
	if (aq_sock_is_udp(sk))
		return !sk_unhashed(sk);
	if (READ_ONCE(sk->sk_state) != TCP_LISTEN)
		return false;
	if (sk->sk_family == AF_UNIX)
		return sk->sk_type == SOCK_STREAM ||
		       sk->sk_type == SOCK_SEQPACKET;
	return sk->sk_protocol == IPPROTO_TCP &&
	       (sk->sk_family == AF_INET || sk->sk_family == AF_INET6);
}

bool aq_sock_read_now(const struct sock *sk, bool closing,
		      struct aq_sock_now *now)
{
	bool dead = aq_sock_dead(sk);

	now->read = false;
	if (closing && !dead)
		return true;
	/*
	 * A tracked socket keeps its family and type: only whether it still
	 * listens (a UDP one: is still bound) can have changed.
	 */
	if (dead || (sk->sk_type == SOCK_DGRAM ? sk_unhashed(sk) :
		     READ_ONCE(sk->sk_state) != TCP_LISTEN))
		return false;
	if (sk->sk_family == AF_UNIX)
		return true;
	now->read = true;
	now->drops = aq_sk_drops(sk);
	now->backlog = aq_kernel_backlog(sk);
	return true;
}

const struct sock *aq_sock_reuseport_member(const struct sock *sk,
					    unsigned int i)
{
	const struct sock_reuseport *reuse = rcu_dereference(sk->sk_reuseport_cb);

	if (!reuse || i >= READ_ONCE(reuse->num_socks))
		return NULL;
	return READ_ONCE(reuse->socks[i]);
}

u32 aq_sock_netns(const struct sock *sk)
{
	return sock_net(sk)->ns.inum;
}

unsigned long aq_sock_ino(const struct sock *sk)
{
	/*
	 * Under RCU: a close may orphan the socket meanwhile, and its inode
	 * is freed only after a grace period.
	 */
	struct socket *sock = READ_ONCE(sk->sk_socket);

	return sock ? SOCK_INODE(sock)->i_ino : 0;
}

u16 aq_sock_port(const struct sock *sk)
{
	return sk->sk_family == AF_UNIX ? 0 : inet_sk(sk)->inet_num;
}

void aq_sock_inet_addr(const struct sock *sk, struct in6_addr *addr)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6) {
		*addr = sk->sk_v6_rcv_saddr;
		return;
	}
#endif
	memset(addr, 0, sizeof(*addr));
	addr->s6_addr32[0] = inet_sk(sk)->inet_rcv_saddr;
}

u8 aq_sock_unix_path(const struct sock *sk, char *path)
{
	/* Pairs with the release store that publishes it in unix_bind(). */
	const struct unix_address *addr = smp_load_acquire(&unix_sk(sk)->addr);
	int len;

	if (!addr)
		return 0;
	len = addr->len - (int)offsetof(struct sockaddr_un, sun_path);
	len = clamp(len, 0, AQ_UNIX_PATH_MAX);
	memcpy(path, addr->name->sun_path, len);
	/* A filesystem name may carry its terminating NUL in len. */
	if (len && path[0])
		len = strnlen(path, len);
	return len;
}
