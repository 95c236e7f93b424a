package mss

import "github.com/mtukit/mtukit/encap"

// TCPHeaderLen is the fixed TCP header, without options.
const TCPHeaderLen = 20

// ForMTU is the MSS to advertise or clamp to for packets of at most mtu
// bytes: the MTU less the fixed IP and TCP headers only, 40 for IPv4 and 60
// for IPv6 (RFC 6691 §2; RFC 9293 §3.7.1). Options are not subtracted here:
// the sender subtracts the options it actually sends. It returns 0 when mtu
// cannot hold the headers.
func ForMTU(mtu int, f encap.Family) int {
	m := mtu - f.HeaderLen() - TCPHeaderLen
	if m < 0 {
		return 0
	}
	return m
}
