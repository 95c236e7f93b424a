//go:build linux

package oracle

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/mtukit/mtukit/advise"
	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/internal/netlab"
	"github.com/mtukit/mtukit/mss"
	"golang.org/x/sys/unix"
)

// tcpiOptTimestamps is TCPI_OPT_TIMESTAMPS from linux/tcp.h (tcpi_options
// bit: timestamps negotiated); x/sys/unix does not define it.
const tcpiOptTimestamps = 1

// The link MTUs of issue 2: the IPv4 minimum host MTU, the IPv6 minimum,
// common tunnel and PPPoE values, an odd one, Ethernet, jumbo.
var linkMTUs = []int{576, 1280, 1400, 1417, 1492, 1500, 9000}

// calc is what `mtukit calc --stack spec --mtu mtu` reports.
func calc(t *testing.T, spec string, mtu int) *advise.Report {
	t.Helper()
	r, err := advise.Calc(advise.Options{Stack: spec, LinkMTU: mtu})
	if err != nil {
		t.Fatalf("advise.Calc(%q, %d): %v", spec, mtu, err)
	}
	return r
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// TestTCPMaxSegMatchesCalc connects client to server over one veth link of
// each MTU and compares the kernel's MSS with calc's.
//
// The number read is getsockopt(TCP_MAXSEG) on the client's connected socket:
// after the handshake Linux returns tp->mss_cache, the MSS it will really put
// in a segment toward the server = min(server's MSS option, own path MTU - IP
// and TCP fixed headers) - the TCP options on every segment. That is the
// number an engineer clamps for, and it is computed on the client from both
// ends' view (its own MTU and the server's SYN-ACK). The server's accepted
// socket is read too and must agree (same link, other direction). With
// timestamps off (net.ipv4.tcp_timestamps=0 on both hosts, which also covers
// IPv6) no option rides on every segment, so TCP_MAXSEG must equal calc's
// MSS (RFC 6691: MTU - 40 / MTU - 60). With timestamps on (Linux's default)
// Linux subtracts the 12 bytes of the aligned timestamps option, so
// TCP_MAXSEG must equal calc's "payload with timestamps". TCP_INFO's advmss
// (the largest payload this end expects to receive) must agree the same way:
// Linux stores the advertised MSS there and takes the 12 bytes off once
// timestamps are negotiated. A capture checks that the SYN and SYN-ACK on the
// wire advertise calc's MSS in both modes (RFC 6691: options are never
// subtracted from the MSS option).
func TestTCPMaxSegMatchesCalc(t *testing.T) {
	netlab.Require(t, "tcpdump")
	for _, mtu := range linkMTUs {
		for _, ts := range []bool{false, true} {
			t.Run(fmt.Sprintf("mtu%d/timestamps-%s", mtu, onOff(ts)), func(t *testing.T) {
				t.Parallel()
				rep := calc(t, "", mtu)
				if want := mss.ForMTU(mtu, encap.IPv4); rep.MSS.IPv4 != want {
					t.Fatalf("calc says MSS %d for IPv4 at MTU %d, mss.ForMTU says %d", rep.MSS.IPv4, mtu, want)
				}

				lab := netlab.New(t)
				c, s := lab.Host("client"), lab.Host("server")
				for _, h := range []*netlab.Host{c, s} {
					h.Sysctl("net.ipv4.tcp_timestamps", map[bool]string{false: "0", true: "1"}[ts])
				}
				o := netlab.LinkOpts{MTU: mtu, AddrA: "10.0.0.1/24", AddrB: "10.0.0.2/24"}
				fams := []encap.Family{encap.IPv4}
				if mtu >= encap.IPv6.MinMTU() { // Linux disables IPv6 on smaller links
					o.Addr6A, o.Addr6B = "fd00::1/64", "fd00::2/64"
					fams = append(fams, encap.IPv6)
				}
				lk := lab.Link(c, s, o)
				cp := s.Capture(lk.IfB, "tcp", "")

				for _, fam := range fams {
					srv := lk.AddrB.Addr()
					calcMSS, calcPayTS := rep.MSS.IPv4, rep.Payload.IPv4Timestamps
					if fam == encap.IPv6 {
						srv = lk.Addr6B.Addr()
						calcMSS, calcPayTS = rep.MSS.IPv6, rep.Payload.IPv6Timestamps
					}
					if want := mss.ForMTU(mtu, fam); calcMSS != want {
						t.Errorf("%s: calc's MSS %d != mss.ForMTU %d", fam, calcMSS, want)
					}
					want := calcMSS
					if ts {
						want = calcPayTS
					}
					cMax, sMax, cInfo, sInfo := connect(t, c, s, srv)
					t.Logf("%s: TCP_MAXSEG client %d server %d, advmss %d/%d; calc MSS %d, with timestamps %d",
						fam, cMax, sMax, cInfo.Advmss, sInfo.Advmss, calcMSS, calcPayTS)
					if cMax != want || sMax != want {
						t.Errorf("%s timestamps %s: kernel TCP_MAXSEG client %d, server %d; calc says %d",
							fam, onOff(ts), cMax, sMax, want)
					}
					if int(cInfo.Advmss) != want || int(sInfo.Advmss) != want {
						t.Errorf("%s timestamps %s: kernel TCP_INFO advmss client %d, server %d; calc says %d",
							fam, onOff(ts), cInfo.Advmss, sInfo.Advmss, want)
					}
					for _, ti := range []*unix.TCPInfo{cInfo, sInfo} {
						if got := ti.Options&tcpiOptTimestamps != 0; got != ts {
							t.Errorf("%s: timestamps negotiated %v, want %v", fam, got, ts)
						}
					}
				}

				{
					n, err := cp.Stop()
					if err != nil {
						t.Fatal(err)
					}
					syns, err := synMSS(cp.Path)
					if err != nil {
						t.Fatal(err)
					}
					// One SYN and one SYN-ACK per family.
					if len(syns) != 2*len(fams) {
						t.Fatalf("captured %d SYNs in %d packets, want %d: %+v", len(syns), n, 2*len(fams), syns)
					}
					for _, sy := range syns {
						want := rep.MSS.IPv4
						if sy.fam == encap.IPv6 {
							want = rep.MSS.IPv6
						}
						if sy.mss != want {
							t.Errorf("%s %s on the wire advertises MSS %d, calc says %d", sy.fam, sy.kind, sy.mss, want)
						}
					}
				}
			})
		}
	}
}

// connect opens a TCP connection from c to srv in s and reads both ends.
func connect(t *testing.T, c, s *netlab.Host, srv netip.Addr) (cMax, sMax int, cInfo, sInfo *unix.TCPInfo) {
	t.Helper()
	cc, sc, err := netlab.TCPPair(c, s, srv, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	defer sc.Close()
	if cMax, err = netlab.TCPMaxSeg(cc); err != nil {
		t.Fatal(err)
	}
	if sMax, err = netlab.TCPMaxSeg(sc); err != nil {
		t.Fatal(err)
	}
	if cInfo, err = netlab.TCPInfo(cc); err != nil {
		t.Fatal(err)
	}
	if sInfo, err = netlab.TCPInfo(sc); err != nil {
		t.Fatal(err)
	}
	return cMax, sMax, cInfo, sInfo
}
