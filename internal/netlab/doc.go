// Package netlab builds network-namespace topologies for tests: named hosts
// (one network namespace each), veth links with a chosen MTU, routes,
// forwarding, sysctls, nftables rules, VXLAN devices, background processes,
// tcpdump captures and Go code run inside a namespace.
//
// A lab test starts with Require, then New:
//
//	func TestPath(t *testing.T) {
//		netlab.Require(t, "ping")       // skip (or fail with MTUKIT_LAB=1) when the lab cannot run
//		lab := netlab.New(t)            // deleted by t.Cleanup, even when the test fails
//		c, r, s := lab.Host("client"), lab.Host("router"), lab.Host("server")
//		lab.Link(c, r, netlab.LinkOpts{MTU: 1500, AddrA: "10.0.1.1/24", AddrB: "10.0.1.2/24"})
//		lab.Link(r, s, netlab.LinkOpts{MTU: 1400, AddrA: "10.0.2.1/24", AddrB: "10.0.2.2/24"})
//		r.Forwarding(true)
//		c.Route("default", "10.0.1.2")
//		s.Route("default", "10.0.2.1")
//		r.DropPTB()                     // a PMTUD black hole
//		if err := c.PingDF("10.0.2.2", 1400); err != nil { ... } // 1400-byte IP packet, DF
//		var conn net.Conn
//		err := c.Do(func() (err error) { conn, err = net.Dial("tcp", "10.0.2.2:80"); return err })
//	}
//
// # Enabling
//
// The lab needs Linux, root and the ip and ethtool commands (plus whatever a
// test names in Require: nft, tcpdump, ping...). When something is missing,
// Require skips the test with the reason, unless MTUKIT_LAB=1, where it fails
// it instead (CI sets that, so lab tests can never silently stop running).
// MTUKIT_LAB=0 skips lab tests even where they could run.
//
// # Isolation and cleanup
//
// Several engineers and parallel tests run labs at the same time on one
// machine, so every namespace name is unique: "nlab-<pid>-<lab counter>-
// <random>-<host>". Interface names only need to be unique inside their own
// namespace, because veth pairs are created directly inside the host
// namespaces (nothing is ever created in the caller's namespace). t.Cleanup
// stops every background process the lab started and deletes every namespace,
// which also destroys the links in them. Namespaces left behind by a test
// binary that was killed (its pid no longer exists) are swept by the next New
// in any process.
//
// Every command runs with a timeout (Lab.Timeout, 20s by default) through
// exec.CommandContext; Run and RunContext return the command's stdout and an
// error (*CmdError) that names the command and carries its stderr.
//
// # Conventions
//
// Each host gets, on creation: lo up, IPv6 duplicate address detection off
// (accept_dad=0, and addresses are added with nodad), ICMP rate limits off
// (net.ipv4.icmp_ratelimit=0, net.ipv6.icmp.ratelimit=0) so routers answer
// every probe, and forwarding off until Forwarding(true). Links get their
// offloads turned off (ethtool -K tx off tso off gso off gro off) so packets
// on the wire are what the MTU says, not 64 KB super-segments.
//
// Setup methods (Host, Link, Route, Sysctl, Nft, VXLAN, Start, Capture...)
// call t.Fatalf on the test that created the lab when they fail, so they
// must be called from that test's goroutine: a subtest that needs its own
// setup creates its own lab (fresh namespaces per scenario is the rule
// anyway). Run, RunContext, Ping, PingDF, Do and TCPPair return errors
// instead, because tests often expect those to fail; they are safe from
// subtests and goroutines.
//
// # What is there
//
//	Lab:   New, Host, Link, Namespaces, Prefix, Timeout
//	Host:  Run, RunContext, RunInput, MustRun, IP, Do, Start (-> *Proc)
//	       Sysctl, SetSysctl, GetSysctl, Forwarding, Route, SetMTU, OffloadsOff,
//	       OffloadsOn (LinkOpts.Offloads: TSO/GSO/GRO on at both ends)
//	       LinkInfo, MTU, WaitReady, Ping, PingDF
//	       VXLAN (a unicast vxlan device, "dev <lower>" or not; returns the
//	       MTU the kernel chose)
//	       Nft, NftRule, NftList, DropPTB, RandomLoss, DropLarger, DropFragments
//	       Capture (-> *Capture: tcpdump -U --immediate-mode; Stop flushes)
//	TCP:   TCPPair (a connected socket pair across two hosts), TCPMaxSeg, TCPInfo
//
// Ping and PingDF wait one second for a reply, so each expected failure
// costs a second: put scenarios in parallel subtests, each with its own lab.
//
// Host.Do runs Go code on an OS thread that has joined the host's namespace,
// so a test can open real sockets there (they keep their namespace after Do
// returns). Goroutines started inside the function do not inherit the
// namespace.
package netlab
