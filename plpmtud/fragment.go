package plpmtud

// IPv4 routers fragment a packet sent without DF instead of dropping it, ICMP
// or not (RFC 791): every fragment but the last carries a multiple of 8 bytes
// of payload, so the largest fragment a link cuts names its MTU to 8 bytes.
// The prober turns a largest fragment into a Hint with FragmentHint; the
// simulator computes the fragment with LargestFragment.

// LargestFragment is the size of the largest fragment a link of MTU mtu cuts
// from a larger IPv4 packet with a 20-byte header.
func LargestFragment(mtu int) int { return 20 + (mtu-20)/8*8 }

// FragmentHint is the range of link MTUs whose largest fragment is f.
func FragmentHint(f int) (lo, hi int) { return f, f + 7 }
