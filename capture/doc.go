// Package capture reads a pcap or pcapng file and says what is wrong with
// MTU and MSS on it: on which flow, with which packets as evidence, and how
// to fix it. It is the engine behind `mtukit analyze`.
//
// # Reading
//
// Classic pcap and pcapng files (any number of sections and interfaces,
// either byte order, mixed link types and timestamp resolutions) are
// parsed in place from one read buffer of 256 KB, small enough to stay in
// the CPU's cache: each byte of the file is copied once, by read, and each
// frame is handed to the decoder as a slice of that buffer, with no
// allocation. (gopacket's pcapgo copies every byte twice, through bufio and
// into its packet buffer, which on captures of whole frames was most of
// the run time.) Both readers are held to pcapgo frame by frame and time by
// time, and in how a file ends (cleanly, cut, or at a broken header or
// block; the pcap reader with pcapgo's very messages), on every real test
// capture, on each converted to pcapng in both byte orders, on hand-made
// multi-section files, cut at many points, and under fuzzing
// (TestPcapReaderMatchesPcapgo, TestNgReaderMatchesPcapgo, FuzzPcapReader,
// FuzzNgReader). Where they part on purpose: the pcapng reader refuses a
// packet whose captured length runs past its block (pcapgo reads on into
// the next block), and skips the options and blocks it does not use
// rather than failing on a broken one; both refuse a record or block over
// 64 MB, which pcapgo would buffer if the file header allowed it.
// Either may be gzip-compressed. The link headers before the first IP header
// (Ethernet, VLAN/QinQ stacks, PBB, MACsec, NSH, MPLS, PPPoE, PPP in every
// framing, Cisco HDLC, Linux cooked v1 and v2, BSD loopback, IPoIB, NFLOG,
// ARCNET...) are walked by mss.Locate, the same locator `mtukit clamp` uses,
// so every SYN analyze reads the clamp finds. Decoding then goes through
// GRE (with ERSPAN, Aruba's 802.11 frames and transparent Ethernet), VXLAN,
// GENEVE, GTP-U, GRE and MPLS over UDP, AYIYA, IP-in-IP, 6in4, 4in6 and IPv6
// extension headers (with AH) down to the innermost TCP, UDP or ICMP, and
// each packet's encapsulation is reported (docs/analyze.md lists it all).
//
// The common layers (Ethernet, VLAN, IPv4, IPv6, TCP, UDP, ICMP) are decoded
// by hand into a caller-owned Packet with no allocation: that path is what
// sets the speed on a large capture, and it also handles what gopacket's
// layers reject (BIG TCP packets whose IPv6 payload length is 0 without a
// jumbo option). Tunnel headers whose layout has many variants (GRE flags,
// GENEVE options, GTP-U extension headers, ERSPAN) are decoded with gopacket's
// DecodingLayer structs, owned by the Decoder and reused for every packet.
// gopacket's DecodingLayerParser itself is not used because it keeps one
// struct per layer type, and nested tunnels repeat types (IPv4 in GRE in
// IPv4): the Decoder walks the layers itself and copies out what it needs
// from each header before decoding the next.
//
// # Analysis
//
// The Analyzer keeps a table of TCP flows, bounded by Options.MaxFlows: when
// it is full the least recently active flows are finished (their findings
// are kept) and dropped, so memory stays bounded on any file size. Per flow
// and direction it records the MSS and other SYN options, the largest
// segment sent and delivered, DF usage, retransmissions by size, and the
// outstanding segments needed to tell a PMTUD black hole from ordinary loss.
// IP fragments are tracked (and small reassembled prefixes kept, so a
// fragmented SYN's MSS is read) in a second bounded table. ICMP
// fragmentation-needed and ICMPv6 packet-too-big messages are tied to the
// flow they quote.
//
// The findings have stable codes (see the Code constants) and feed one
// Report, which prints itself as text (WriteText) and marshals to the JSON
// that `mtukit analyze --json` and the web API share.
//
// # Live input
//
// A Stream runs the same Analyzer on packets as they arrive (a pipe, or a
// Live capture: an AF_PACKET ring on Linux through gopacket's afpacket,
// with filters compiled by tcpdump, CompileFilter) and hands out each
// finding as an Event as soon as its evidence is complete: a black hole
// once its third full-size transmission stays unacknowledged, the rest of
// a flow's findings when it closes or idles. Its Report is Analyze's for
// the same packets. `mtukit analyze --live` and `mtukit watch` use it.
package capture
