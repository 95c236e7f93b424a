package encap

// Family is an IP version.
type Family uint8

const (
	IPv4 Family = 4
	IPv6 Family = 6
)

// HeaderLen is the fixed IP header length of the family (no options or
// extension headers): 20 for IPv4, 40 for IPv6.
func (f Family) HeaderLen() int {
	if f == IPv6 {
		return 40
	}
	return 20
}

// MinMTU is the smallest link MTU the family allows: 68 for IPv4 (RFC 791),
// 1280 for IPv6 (RFC 8200 §5).
func (f Family) MinMTU() int {
	if f == IPv6 {
		return 1280
	}
	return 68
}

func (f Family) String() string {
	if f == IPv6 {
		return "ipv6"
	}
	return "ipv4"
}
