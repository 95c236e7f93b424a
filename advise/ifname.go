package advise

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/mtukit/mtukit/encap"
)

// Platform is a system whose configuration lines name an interface.
type Platform string

// The platforms whose interface names CheckName knows.
const (
	Linux    Platform = "Linux"
	IOS      Platform = "Cisco IOS"
	Junos    Platform = "Junos"
	PANOS    Platform = "PAN-OS"
	RouterOS Platform = "RouterOS"
	VyOS     Platform = "VyOS"
)

// linuxIfnameMax is the longest Linux interface name: IFNAMSIZ (16) less
// the terminating NUL (net/core/dev.c, dev_valid_name).
const linuxIfnameMax = 15

// Interface names are pasted into shell lines (ip, iptables, nft) and
// device CLIs unquoted, so a name is accepted only if every byte is one
// that no shell or device CLI gives a meaning: ASCII letters, digits, '.',
// '_', '-', and where the platform's names have them '/' (slot/port) and
// ':' (Junos channels). It must start with a letter or a digit, so that it
// cannot be read as an option ("-j") or as "." / "..".
var (
	// Linux: dev_valid_name refuses "", ".", "..", '/', ':' and
	// whitespace, and names of IFNAMSIZ bytes or more; the rest of the
	// kernel's bytes (shell metacharacters, '+' which iptables reads as a
	// wildcard, '*' nft's) are refused here.
	linuxName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	// RouterOS: a name is free text, but unquoted values end at
	// whitespace and ';', and '"', '$', '[', ']', '{', '}', '\' and '='
	// are syntax: the same set as Linux.
	routerOSName = linuxName
	// Cisco IOS: type, then slot/port numbers, then a subinterface:
	// Tunnel0, GigabitEthernet0/0/1.100, Port-channel1, Dialer1.
	iosName = regexp.MustCompile(`^[A-Za-z][A-Za-z-]*[0-9]+(/[0-9]+)*(\.[0-9]+)?$`)
	// Junos: type-fpc/pic/port[:channel] or a numbered or bare logical
	// type, then .unit: ge-0/0/0.0, xe-0/0/0:1, gr-0/0/0, st0.1, irb.10.
	junosName = regexp.MustCompile(`^[a-z]+(-[0-9]+/[0-9]+/[0-9]+(:[0-9]+)?|[0-9]+)?(\.[0-9]+)?$`)
	// PAN-OS: ethernet1/1 and its subinterfaces ethernet1/1.100, ae1,
	// tunnel.1, loopback.1, vlan.1.
	panosName = regexp.MustCompile(`^(ethernet[0-9]+/[0-9]+(\.[0-9]+)?|ae[0-9]+(\.[0-9]+)?|(tunnel|loopback|vlan)(\.[0-9]+)?)$`)
	// VyOS: the interface-name constraint of vyos-1x
	// (interface-definitions/include/constraint/interface-name.xml.in);
	// a tunnel interface must moreover be tunN (interfaces_tunnel.xml.in).
	vyosName = regexp.MustCompile(`^((bond|br|dum|en|ersp|eth|gnv|ifb|lan|l2tp|l2tpeth|macsec|peth|ppp|pppoe|pptp|sstp|tun|veth|vti|vtun|vxlan|wg|wlan|wwan)[0-9]+(\.[0-9]+)?|lo)$`)
)

// CheckName returns an error unless name is an interface name of platform
// p that mtukit can paste into p's configuration lines as it is.
func CheckName(p Platform, name string) error {
	var re *regexp.Regexp
	punct := "._-" // besides ASCII letters and digits
	switch p {
	case Linux:
		re = linuxName
	case RouterOS:
		re = routerOSName
	case IOS:
		re, punct = iosName, "/.-"
	case Junos:
		re, punct = junosName, "-/:."
	case PANOS:
		re, punct = panosName, "/."
	case VyOS:
		re = vyosName
	default:
		return fmt.Errorf("unknown platform %q", p)
	}
	if name == "" {
		return fmt.Errorf("empty %s interface name", p)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(punct, c) >= 0) {
			return fmt.Errorf("%q at byte %d is not allowed in a %s interface name (letters, digits, %s)", name[i:i+1], i, p, quoteEach(punct))
		}
	}
	if !re.MatchString(name) {
		return fmt.Errorf("not a %s interface name (%s)", p, re)
	}
	if p == Linux && len(name) > linuxIfnameMax {
		return fmt.Errorf("%d bytes, over the %d of a Linux interface name (IFNAMSIZ)", len(name), linuxIfnameMax)
	}
	return nil
}

// quoteEach lists the bytes of s as '.', '_', '-'.
func quoteEach(s string) string {
	q := make([]string, len(s))
	for i := range len(s) {
		q[i] = "'" + s[i:i+1] + "'"
	}
	return strings.Join(q, ", ")
}

// NameError is a refused interface name; Param is the parameter that gave
// it ("interface" or "physical", as the API and the CLI's flags call them).
type NameError struct {
	Param string
	Name  string
	Err   error
}

func (e *NameError) Error() string { return fmt.Sprintf("%s %q: %v", e.Param, e.Name, e.Err) }
func (e *NameError) Unwrap() error { return e.Err }

// checkNames validates the interface names of opts against the platforms
// whose lines print them (see vendorConfigs): the tunnel interface goes
// verbatim into the Linux lines (ip link, iptables, nftables), RouterOS's
// and VyOS's; the physical one into PAN-OS's when it is a PAN-OS ethernet
// name, and is otherwise a Linux name (the default eth0).
//
// VyOS requires its tunnel interfaces to be named tunN; a Linux name such as
// gre1 is accepted here (the lines stay inert text) and VyOS will refuse
// it at commit.
func checkNames(opts Options) error {
	for _, p := range []Platform{Linux, RouterOS} {
		if err := CheckName(p, opts.Interface); err != nil {
			return encap.Paramf("interface", "%w", &NameError{Param: "interface", Name: opts.Interface, Err: err})
		}
	}
	if err := CheckName(Linux, opts.Physical); err != nil && CheckName(PANOS, opts.Physical) != nil {
		return encap.Paramf("physical", "%w", &NameError{Param: "physical", Name: opts.Physical, Err: fmt.Errorf("%w, nor a PAN-OS one", err)})
	}
	return nil
}
