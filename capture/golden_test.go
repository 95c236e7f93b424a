package capture

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden reports in testdata/golden")

// analyzeFile runs Analyze on a test capture.
func analyzeFile(t *testing.T, path string) *Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := Analyze(f, Options{Name: filepath.Base(path)})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return r
}

// TestGolden compares the text and JSON reports of every real capture with
// the reviewed reports in testdata/golden (go test -run TestGolden -update
// rewrites them; review the diff).
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/real/*.pcap*")
	if err != nil || len(files) == 0 {
		t.Fatal("no captures in testdata/real")
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			r := analyzeFile(t, file)
			var txt bytes.Buffer
			if err := r.WriteText(&txt, true); err != nil {
				t.Fatal(err)
			}
			js, err := json.MarshalIndent(r, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			js = append(js, '\n')
			for _, g := range []struct {
				ext  string
				data []byte
			}{{".txt", txt.Bytes()}, {".json", js}} {
				path := filepath.Join("testdata", "golden", name+g.ext)
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, g.data, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./capture -run TestGolden -update)", err)
				}
				if !bytes.Equal(want, g.data) {
					t.Errorf("%s differs from the golden report; got:\n%s", path, g.data)
				}
			}
		})
	}
}

// expect is a finding checked by hand against tshark.
type expect struct {
	file    string
	code    string
	flow    string // prefix of Finding.Flow
	packets []int64
	mtu     int
	mss     int
}

// TestRealCaptureFindings pins every finding mtukit makes on the real
// captures, each checked by hand with the tshark command in its comment. A
// capture not listed here must give no findings.
func TestRealCaptureFindings(t *testing.T) {
	want := []expect{
		// tshark -r suricata-verify__bug-76_input.pcap -Y 'frame.number==4 || frame.number==44' -T fields -e frame.number -e tcp.options -e _ws.expert.message
		//   4: option 0xaa "option length = 170 bytes says option goes past end of options"; 44: "Window scale (option length = 200 ...)"
		{"suricata-verify__bug-76_input.pcap", CodeBadTCPOption, "10.10.10.2:53104 > 10.20.10.99:80", []int64{4, 44}, 0, 0},
		// tshark ... -Y 'frame.number==8 || frame.number==22 || frame.number==46' -V: "IPv4 total length exceeds packet length", "Short segment"
		{"suricata-verify__bug-76_input.pcap", CodeMalformedPacket, "", []int64{8, 22, 46}, 0, 0},
		// tshark -r suricata-verify__dcerpc-issue-7187-01_test.pcap -Y frame.number==3 -T fields -e tcp.flags.str -e tcp.options.mss_val -e tcp.options.wscale.shift
		//   ·······A···· 1460 0: MSS and window scale on a segment without SYN
		{"suricata-verify__dcerpc-issue-7187-01_test.pcap", CodeBadTCPOption, "20.20.22.93:52320 > 20.20.33.59:4592", []int64{3}, 0, 0},
		// tshark -r <f> -T fields -e frame.number -e ipv6.plen -e ipv6.fraghdr.offset -e ipv6.fraghdr.more: 448/0/1, 448/55/1, 148/110/0
		//   fragments of 40+448 = 488 bytes, below 1280: no path MTU claimed
		{"suricata-verify__defrag_bug-6887-defrag-eth-vlan-ipv6-tcp_frag-eth-vlan-ipv6-tcp.pcap", CodeFragmentation, "[::1]:12345 > [::1]:8080", []int64{1, 2, 3}, 0, 0},
		// tshark -r <f> -T fields -e frame.number -e ip.len -e ip.frag_offset -e tcp.flags.str: 28/0, 28/1, 28/2 SYN
		//   the first fragment carries 8 bytes, not the 20-byte TCP header (RFC 1858)
		{"suricata-verify__defrag_bug-6887-defrag-ipv4-tcp-syn_frag-ip-tcp-syn.pcap", CodeFragmentMalformed, "1.1.1.1:12345 > 2.2.2.2:8080", []int64{1}, 0, 0},
		{"suricata-verify__defrag_bug-6887-defrag-ipv4-tcp-syn_frag-ip-tcp-syn.pcap", CodeFragmentation, "1.1.1.1:12345 > 2.2.2.2:8080", []int64{1, 2, 3}, 0, 0},
		// as above: 472/0, 472/58, 100/116
		{"suricata-verify__defrag_bug-6887-defrag-ipv6-tcp_frag-ip-tcp.pcap", CodeFragmentation, "[::1]:12345 > [::1]:8080", []int64{1, 2, 3}, 0, 0},
		// PPP link type, same three 8-byte fragments
		{"suricata-verify__defrag_bug-6887-defrag-ppp-ipv4-tcp-syn_frag-ppp-ip-tcp-syn.pcap", CodeFragmentMalformed, "1.1.1.1:12345 > 2.2.2.2:8080", []int64{1}, 0, 0},
		{"suricata-verify__defrag_bug-6887-defrag-ppp-ipv4-tcp-syn_frag-ppp-ip-tcp-syn.pcap", CodeFragmentation, "1.1.1.1:12345 > 2.2.2.2:8080", []int64{1, 2, 3}, 0, 0},
		{"suricata-verify__defrag_bug-6887-defrag-ppp-ipv6-tcp_frag-ppp-ipv6-tcp.pcap", CodeFragmentation, "[::1]:12345 > [::1]:8080", []int64{1, 2, 3}, 0, 0},
		// tshark -r <f> -o ip.defragment:FALSE -T fields -e ip.src -e ip.flags.mf -e ip.frag_offset | sort | uniq -c:
		//   1024 fragments of one UDP datagram inside GRE/PPP, the last missing
		{"suricata-verify__defrag_bug-6942-6887-defrag-eth-ip-gre-ppp-ip-udp-data_eth-ip-gre-ppp-max-ip-packet.pcap", CodeFragmentation, "1.1.1.1:11111 > 2.2.2.2:9999", []int64{1, 2, 3, 4, 5, 6, 7, 8}, 0, 0},
		// tshark -r <f> -T fields -e frame.number -e ip.len -e ip.flags.mf -e ip.frag_offset: 996/1/0, 452/0/122
		//   (996 - 20) = 976 = 122*8: the link MTU is 996..1003
		{"suricata-verify__exception-policy-defrag-01_ipv4frags.pcap", CodeFragmentation, "2.1.1.2 > 2.1.1.1", []int64{1, 2}, 996, 0},
		// tshark -r <f> -Y 'tcp.options.mss_val || tcp.len>1380' -T fields -e frame.number -e ip.src -e tcp.len -e tcp.options.mss_val -e ip.len
		//   2: 216.58.223.142 MSS 1380; 10, 33: 172.18.38.179 sends 1448 bytes (ip.len 1500, its own SYN said 1460: not offload)
		{"suricata-verify__http2-compression-bug_input.pcap", CodeOversizeSegment, "172.18.38.179:37480 > 216.58.223.142:443", []int64{10, 33}, 0, 1380},
		{"suricata-verify__http2-compression-bug_input.pcap", CodeMSSClamped, "216.58.223.142:443 > 172.18.38.179:37480", []int64{2}, 1420, 1380},
		// tshark -r <f> -Y 'frame.number==59' -T fields -e ipv6.fraghdr.offset -e ipv6.plen: 8162, 255: 8162*8 + 247 = 65543 > 65535
		{"suricata-verify__ipv6-evasion_ipv6-malformed-fragments-15_frag-15.pcap", CodeFragmentMalformed, "2001:db8:1::2 > 2001:db8:1::1", []int64{59}, 0, 0},
		// tshark ... -Y ipv6.fraghdr -T fields -e ipv6.plen | sort | uniq -c: 53 x 1240 (+40 = 1280-byte fragments)
		{"suricata-verify__ipv6-evasion_ipv6-malformed-fragments-15_frag-15.pcap", CodeFragmentation, "2001:db8:1::2 > 2001:db8:1::1", []int64{6, 7, 8, 9, 10, 11, 12, 13}, 1280, 0},
		// tshark -r <f> -T fields -e frame.number -e ipv6.fraghdr.offset -e ipv6.fragment.overlap.conflict:
		//   frames 6 and 8 both at offset 51 with different bytes; tshark flags the conflict on the reassembling frame 9
		{"suricata-verify__ipv6-evasion_ipv6-malformed-fragments-1_frag-1.pcap", CodeFragmentOverlap, "2001:db8:1::2 > 2001:db8:1::1", []int64{8}, 0, 0},
		{"suricata-verify__ipv6-evasion_ipv6-malformed-fragments-1_frag-1.pcap", CodeFragmentation, "2001:db8:1::2 > 2001:db8:1::1", []int64{5, 6, 8, 9}, 0, 0},
		// tshark -r <f> -T fields -e tcp.options.mss_val: 8
		{"suricata-verify__tcp-mss-keyword_input.pcap", CodeMSSLow, "192.168.0.1:20 > 255.255.255.255:80", []int64{1}, 0, 8},
		// tshark -r <f> -Y tcp.options.mss_val -T fields -e frame.number -e tcp.options.mss_val -e ip.len:
		//   frames 3,4,30,31,55,56,80,81 MSS 1460, ip.len 110,60: 50 bytes of VXLAN (outer IPv4 20 + UDP 8 + VXLAN 8 + Ethernet 14)
		{"suricata-verify__vxlan-decoder-03_vxlan.pcap", CodeTunnelMSS, "vxlan (8 SYNs)", []int64{3, 4, 30, 31, 55, 56, 80, 81}, 1450, 1460},
		// tshark -r tcpdump__afs.pcap -Y 'ip.flags.df==1 && (ip.flags.mf==1 || ip.frag_offset>0)' | wc -l: 200;
		//   -Y ip.flags.mf==1 -e ip.len: 149 x 1500; -Y ip.fragment.count: 51 reassembled
		{"tcpdump__afs.pcap", CodeDFConflict, "131.151.1.146:7000 > 131.151.32.21:7001", []int64{125, 126, 127, 128, 129, 130, 131, 132}, 0, 0},
		{"tcpdump__afs.pcap", CodeFragmentation, "131.151.1.146:7000 > 131.151.32.21:7001", []int64{125, 126, 127, 128, 129, 130, 131, 132}, 1500, 0},
		// tshark -r <f> -T fields -e ip.len -e tcp.len: 0 (BIG TCP), 80000
		{"tcpdump__bigtcp-ipv4.pcap", CodeOffload, "10.25.132.13:35871 > 10.25.132.11:36425", []int64{1}, 0, 0},
		// tshark: ipv6.plen 0 with a hop-by-hop jumbo payload option, tcp.len 80000
		{"tcpdump__bigtcp-ipv6-hbh.pcap", CodeOffload, "[2604:1380:4091:ce00::d]:41851 > [2604:1380:4091:ce00::b]:43913", []int64{1}, 0, 0},
		// tshark: ipv6.plen 0, no jumbo option ("Malformed" to tshark 4.0): an 80054-byte frame
		{"tcpdump__bigtcp-ipv6.pcap", CodeOffload, "[2604:1380:4091:ce00::b]:43267 > [2604:1380:4091:ce00::d]:41219", []int64{1}, 0, 0},
		// tshark -r <f> -Y tcp.options.mss_val -T fields -e frame.number -e tcp.options.mss_val -e ip.len: 3 1460 110,60; 4 1460 118,60
		//   (the return path carries 8 bytes of GENEVE options; the flow's first packet has none)
		{"tcpdump__geneve.pcap", CodeTunnelMSS, "geneve (2 SYNs)", []int64{3, 4}, 1450, 1460},
		// tshark: tcp.len 7240 = 5 x 1448, ip.len 7292 > 1500, no SYN captured
		{"tcpdump__gso-ipv4.pcap", CodeOffload, "10.25.132.11:38407 > 10.25.132.13:39701", []int64{1}, 0, 0},
		// tshark: tcp.len 7140 = 5 x 1428
		{"tcpdump__gso-ipv6.pcap", CodeOffload, "[2604:1380:4091:ce00::b]:36539 > [2604:1380:4091:ce00::d]:45393", []int64{1}, 0, 0},
		// a crafted 64-byte frame whose IPv4 header claims 12336 bytes ("00" in ASCII); the snap length cut it
		{"tcpdump__heapoverflow-tcp_print.pcap", CodeOffload, "48.48.48.48:12336 > 48.48.48.48:12336", []int64{1}, 0, 0},
		// tshark: ip.len 2016, tcp.len 1976, no SYN: a TSO send captured on the sender
		{"tcpdump__ipv4_tcp_http_xml_tso.pcap", CodeOffload, "30.7.181.121:39556 > 199.43.68.163:8080", []int64{1}, 0, 0},
		// a crafted IPv6 fragment (next header 2) that tshark calls malformed
		{"tcpdump__ipv6_frag6_negative_len.pcap", CodeFragmentation, "7fff:ffff:c3b2:a102:1305:80:38:2949 > 9675:86dd:7300:2c:1c7f:ffff:ffc3:b2a1", []int64{1}, 0, 0},
		// tshark -r <f> -Y 'ip.len>1500 || tcp.options.mss_val' -T fields -e frame.number -e ip.src -e ip.len -e tcp.options.mss_val:
		//   1, 2: MSS 1460 both ways; 4 (10.0.1.1, 7176), 7 (10.0.2.1, 7180), 17 (10.0.2.1, 2156)
		{"tcpdump__mptcp-v1.pcap", CodeOffload, "10.0.1.1:33306 > 10.0.2.1:10004", []int64{4}, 0, 0},
		{"tcpdump__mptcp-v1.pcap", CodeOffload, "10.0.2.1:10004 > 10.0.1.1:33306", []int64{7, 17}, 0, 0},
		{"tcpdump__tcp-auth-heapoverflow.pcap", CodeOffload, "48.48.48.48:12336 > 48.48.48.48:12336", []int64{1}, 0, 0},
		// tshark -r <f> -T fields -e frame.number -e ip.src -e tcp.options.mss_val: 1 131.155.215.69 1360; 2 137.116.81.94 1440
		{"tcpdump__tcp-handshake-nano.pcap", CodeMSSClamped, "131.155.215.69:46656 > 137.116.81.94:80", []int64{1}, 1400, 1360},
		{"tcpdump__tcp-handshake-nano.pcap", CodeMSSClamped, "137.116.81.94:80 > 131.155.215.69:46656", []int64{2}, 1480, 1440},
		// tshark -r zeek__erspan.pcap -o ip.defragment:FALSE -Y 'ip.flags.mf==1 || ip.frag_offset>0': 55 GRE fragments of 1500 bytes;
		//   -Y 'ip.len>1500' on the mirrored frames: 192.168.69.2 sends up to 7726 bytes
		{"zeek__erspan.pcap", CodeFragmentation, "10.200.0.3 > 10.200.0.224", []int64{153, 154, 155, 157, 158, 159, 160, 178}, 1500, 0},
		{"zeek__erspan.pcap", CodeOffload, "192.168.69.2 (5 flows)", []int64{155, 160, 180, 183, 218, 223, 231, 260}, 0, 0},
		// tshark -r <f> -V: "Packet Too Big", MTU 1280, quoting an IPv6 packet with payload length 12 (52 bytes)
		{"zeek__icmp_icmp6-toobig.pcap", CodePTBSuspicious, "[fe80::beef]:30000 > [fe80::dead]:13000", []int64{1}, 1280, 0},
		// tshark -r <f> -T fields -e frame.number -e ip.flags.mf -e ip.frag_offset -e ip.len: 1/1/0/38 (18 data bytes), 2/0/6/136, 3/1/0/324
		//   frame 1: 18 bytes with MF, not a multiple of 8; frame 3 runs past the end frame 2 sets (48 + 116)
		{"zeek__ipv4_fragmented-1.pcap", CodeFragmentMalformed, "164.1.123.163:123 > 164.1.123.61:137", []int64{1, 3}, 0, 0},
		{"zeek__ipv4_fragmented-1.pcap", CodeFragmentation, "164.1.123.163:123 > 164.1.123.61:137", []int64{1, 2, 3}, 0, 0},
		// same first two frames; frame 3 repeats frame 1 (38 bytes)
		{"zeek__ipv4_fragmented-2.pcap", CodeFragmentMalformed, "164.1.123.163 > 164.1.123.61", []int64{1, 3}, 0, 0},
		{"zeek__ipv4_fragmented-2.pcap", CodeFragmentation, "164.1.123.163 > 164.1.123.61", []int64{1, 2, 3}, 0, 0},
		// tshark -r <f> -T fields -e frame.number -e ip.flags.df -e ip.flags.mf -e ip.len: every frame 1/1/1500
		{"zeek__ipv4_fragmented-3.pcap", CodeDFConflict, "210.54.213.247:1265 > 131.243.1.10:21", []int64{1, 2, 3, 4, 5}, 0, 0},
		{"zeek__ipv4_fragmented-3.pcap", CodeFragmentation, "210.54.213.247:1265 > 131.243.1.10:21", []int64{1, 2, 3, 4, 5}, 1500, 0},
		// tshark -r <f> -T fields -e frame.number -e ip.fragment.overlap -e ip.fragment.overlap.conflict: 5 1 1
		{"zeek__ipv4_fragmented-4.pcap", CodeFragmentOverlap, "128.32.46.142:7790 > 10.0.0.1:80", []int64{5}, 0, 0},
		{"zeek__ipv4_fragmented-4.pcap", CodeFragmentation, "128.32.46.142:7790 > 10.0.0.1:80", []int64{2, 3, 4, 5}, 0, 0},
		// tshark -r <f> -T fields -e frame.number -e ipv6.plen -e ipv6.fraghdr.offset: 6 1440 0, 7 1440 179 (1480-byte fragments)
		{"zeek__ipv6-fragmented-dns.pcap", CodeFragmentation, "[2607:f740:b::f93]:53 > [2001:470:1f11:81f:d138:5f55:6d4:1fe2]:51851", []int64{4, 6, 7, 8}, 1480, 0},
		// tshark -r <f> -Y 'ipv6.fraghdr.offset==0 && ipv6.fraghdr.more==0' -T fields -e frame.number: 13 15 16 20 21
		{"zeek__ipv6-http-atomic-frag.pcap", CodeFragmentation, "2001:db8:1::2 > 2001:db8:1::1", []int64{13, 15, 16, 20, 21}, 0, 0},
		// tshark -r <f> -Y 'ip.len>1500' -T fields -e frame.number -e ip.src: 172.16.0.100: 20 30 152 226 236; 172.16.0.211: 28 35 118 150 157 234 241
		{"zeek__krb_kerberos_tso.pcapng", CodeOffload, "172.16.0.100 (5 flows)", []int64{20, 30, 152, 226, 236}, 0, 0},
		{"zeek__krb_kerberos_tso.pcapng", CodeOffload, "172.16.0.211 (7 flows)", []int64{28, 35, 118, 150, 157, 234, 241}, 0, 0},
		// tshark -r <f> -Y tcp.options.mss_val -T fields -e frame.number -e ip.src -e tcp.options.mss_val: 1 1.1.1.1 1440; 2 2.2.2.2 1440
		//   (the same value and reason in two SYNs: one finding)
		{"zeek__pppoe-over-qinq.pcap", CodeMSSClamped, "MSS 1440 (2 SYNs)", []int64{1, 2}, 1480, 1440},
		// tshark -r <f> -T fields -e frame.number -e ip.src -e tcp.options.mss_val: 2 193.1.193.64 1380
		{"zeek__tcp_options.pcap", CodeMSSClamped, "193.1.193.64:80 > 192.168.1.102:36861", []int64{2}, 1420, 1380},
		// tshark -r <f> -T fields -e frame.number -e ip.src -e tcp.len -e tcp.options.mss_val -e ip.len:
		//   1 10.0.88.85 MSS 1452; 2 192.168.0.27 MSS 1430, then 6.. 192.168.0.27 sends 1446 bytes (ip.len 1486 > 1430 + 40)
		{"zeek__tcp_retransmit-fast009.pcap", CodeMSSClamped, "10.0.88.85:50368 > 192.168.0.27:80", []int64{1}, 1492, 1452},
		{"zeek__tcp_retransmit-fast009.pcap", CodeMSSClamped, "192.168.0.27:80 > 10.0.88.85:50368", []int64{2, 6}, 1470, 1430},
		// tshark -r <f> -T fields -e tcp.options.wscale.shift -e _ws.expert.message: 255 "Window scale shift exceeds 14"
		{"zeek__tcp_window-scale-range.pcap", CodeBadTCPOption, "10.0.0.1:40000 > 10.0.0.2:80", []int64{1}, 0, 0},
		// tshark -r <f> -Y tcp.options.mss_val -T fields -e frame.number -e tcp.srcport -e tcp.options.mss_val -e ip.len -e gre.flags.key:
		//   11 40264 1436 84,60 0; 12 22 1460 84,60 0: GRE without key, 24 bytes; 1476 - 40 = 1436; 1460 + 40 + 24 = 1524
		{"zeek__tunnels_gre-sample.pcap", CodeTunnelMSS, "172.28.2.3:22 > 66.59.111.190:40264", []int64{12}, 1476, 1460},
		{"zeek__tunnels_gre-sample.pcap", CodeMSSClamped, "66.59.111.190:40264 > 172.28.2.3:22", []int64{11}, 1476, 1436},
		// tshark -r <f> -o ip.defragment:FALSE -Y 'ip.flags.mf==1 || ip.frag_offset>0' -T fields -e ip.src -e ip.dst -e ip.len | sort | uniq -c:
		//   239.114.155.111 > 63.94.149.181: 1 x 1500 + 1 x 36; 63.94.149.181 > 239.114.155.111: 39 x 1500 + 35 x 36
		{"zeek__tunnels_gtp_gtp1_gn_normal_incl_fragmentation.pcap", CodeFragmentation, "239.114.155.111:2152 > 63.94.149.181:2152", []int64{4, 5}, 1500, 0},
		{"zeek__tunnels_gtp_gtp1_gn_normal_incl_fragmentation.pcap", CodeFragmentation, "63.94.149.181:2152 > 239.114.155.111:2152", []int64{10, 11, 12, 13, 14, 15, 16, 17}, 1500, 0},
		// tshark -r <f> -Y tcp.options.mss_val -T fields -e frame.number -e ip.src -e tcp.options.mss_val: 2 ...,79.101.110.141 1440
		{"zeek__tunnels_gtp_gtp1_gn_normal_incl_fragmentation.pcap", CodeMSSClamped, "79.101.110.141:80 > 10.131.47.185:1923", []int64{2}, 1480, 1440},
	}
	files, _ := filepath.Glob("testdata/real/*.pcap*")
	byFile := map[string][]expect{}
	for _, e := range want {
		byFile[e.file] = append(byFile[e.file], e)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			r := analyzeFile(t, file)
			exp := byFile[name]
			if len(r.Findings) != len(exp) {
				t.Errorf("%d findings, want %d: %v", len(r.Findings), len(exp), codes(r))
			}
			for _, e := range exp {
				ok := slices.ContainsFunc(r.Findings, func(f Finding) bool {
					return f.Code == e.code && strings.HasPrefix(f.Flow, e.flow) && slices.Equal(f.Packets, e.packets) && f.MTU == e.mtu && f.MSS == e.mss
				})
				if !ok {
					t.Errorf("missing %s on %q packets %v mtu %d mss %d; got:\n%s", e.code, e.flow, e.packets, e.mtu, e.mss, text(r))
				}
			}
		})
	}
}
