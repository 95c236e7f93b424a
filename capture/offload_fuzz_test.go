package capture

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/mtukit/mtukit/mss"
)

// FuzzOffload drives one download with super-packets built from the fuzz
// input: each 4-byte op sends new data (up to 600 KB, above 64 KiB with an
// IP length of 0 as BIG TCP writes it), resends from an offset, or ACKs.
// No panic; at most maxSegsPerDir segments tracked per direction; every
// packet with more data than segmentation offload makes (524280 bytes) counted
// as malformed; and when the first byte asks for every send to be
// acknowledged at once, no black hole, whatever the sizes.
func FuzzOffload(f *testing.F) {
	// annotated seeds: op = kind, a, b, c
	f.Add([]byte{1, 0, 5, 0, 0, 0, 0, 0})                              // acked: one 5-segment super-packet
	f.Add([]byte{0, 0, 5, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0})      // unacked: super-packet, three resends of its head (a black hole)
	f.Add([]byte{0, 0, 44, 0, 2, 0, 0, 0, 0, 255, 255, 1})             // 44 segments, an ACK, then a 600 KB BIG TCP lie
	f.Add([]byte{1, 0, 3, 100, 1, 10, 0, 0, 0, 0, 130, 0, 3, 0, 0, 0}) // tails, a resend mid-packet, 130 segments (BIG TCP)
	f.Add([]byte{0, 0, 7, 0, 3, 0, 0, 0, 0, 0, 8, 17, 1, 0, 0, 0})     // a PTB-like size change: 8 x 1348 + 17
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 || len(in) > 4*256 {
			return
		}
		acked := in[0]&1 == 1
		in = in[1:]
		src, dst := [4]byte{10, 2, 0, 1}, [4]byte{10, 1, 0, 1}
		a := NewAnalyzer(Options{})
		num := int64(0)
		feed := func(fr []byte, wire int) {
			num++
			a.FeedPacket(layers.LinkTypeEthernet, fr, num, num*200e6, wire, 0)
		}
		feed(tsoFrame(dst, src, 40000, 443, 1000, 0, mss.FlagSYN, 0, true))
		feed(tsoFrame(src, dst, 443, 40000, 5000, 1001, mss.FlagSYN|mss.FlagACK, 0, true))
		feed(tsoFrame(dst, src, 40000, 443, 1001, 5001, mss.FlagACK, 0, false))
		feed(tsoFrame(dst, src, 40000, 443, 1001, 5001, mss.FlagACK|mss.FlagPSH, 100, false))
		feed(tsoFrame(src, dst, 443, 40000, 5001, 1101, mss.FlagACK, 200, false))
		feed(tsoFrame(dst, src, 40000, 443, 1101, 5201, mss.FlagACK, 0, false))
		next, lastSent, hi := uint32(5201), uint32(5201), uint32(5201)
		lies := int64(0)
		for len(in) >= 4 {
			op := in[:4]
			in = in[4:]
			switch op[0] % 4 {
			case 0: // new data: op[2] segments of 1448 and op[3] bytes, op[1] adds 1448*256
				n := (int(op[1])*256+int(op[2]))*1448 + int(op[3])
				if n == 0 || n > 600_000 {
					n = 600_000
				}
				if n > maxGSOPayload {
					lies++
				}
				feed(tsoFrame(src, dst, 443, 40000, next, 1101, mss.FlagACK, n, false))
				if n <= maxGSOPayload {
					lastSent = next
					next += uint32(n)
					hi = max(hi, next)
				}
			case 1: // resend from op[1]*1448 past the last send, op[2] segments and op[3] bytes
				n := int(op[2])*1448 + int(op[3])
				if n == 0 {
					n = 1448
				}
				seq := lastSent + uint32(op[1])*1448
				n = min(n, maxGSOPayload)
				feed(tsoFrame(src, dst, 443, 40000, seq, 1101, mss.FlagACK, n, false))
				hi = max(hi, seq+uint32(n))
			case 2: // the peer acknowledges up to op[1]/255 of what was sent
				feed(tsoFrame(dst, src, 40000, 443, 1101, 5201+uint32(uint64(next-5201)*uint64(op[1])/255), mss.FlagACK, 0, false))
			case 3: // a 1400-byte path: an ICMP is not built here, only a pause
				num += int64(op[1])
			}
			if acked {
				feed(tsoFrame(dst, src, 40000, 443, 1101, hi, mss.FlagACK, 0, false))
			}
		}
		a.flows.each(func(fl *flow) {
			for i := range fl.d {
				if n := fl.d[i].segs.n(); n > maxSegsPerDir {
					t.Fatalf("%d segments tracked, limit %d", n, maxSegsPerDir)
				}
			}
		})
		r := a.Report()
		if r.Malformed != lies {
			t.Fatalf("%d malformed, want %d (packets above %d bytes of data)", r.Malformed, lies, maxGSOPayload)
		}
		if acked && find(r, CodeBlackhole) != nil {
			t.Fatalf("a black hole where every send was acknowledged\n%s", text(r))
		}
	})
}

// FuzzOffloadCapture is FuzzAnalyze seeded with captures full of
// super-packets: tcpdump's GSO and BIG TCP tests and the lab's TSO
// sender capture of a black hole.
func FuzzOffloadCapture(f *testing.F) {
	for _, s := range []struct {
		name string // annotation: what the seed exercises
		file string
	}{
		{"GSO IPv4, 7292-byte super-packet", "tcpdump__gso-ipv4.pcap"},
		{"BIG TCP IPv4, IP length 0", "tcpdump__bigtcp-ipv4.pcap"},
		{"BIG TCP IPv6 without hop-by-hop, payload length 0", "tcpdump__bigtcp-ipv6.pcap"},
	} {
		b := realCapture(f, s.file)
		if len(b) > 8192 { // a jumbo frame's bytes teach the fuzzer nothing: keep the headers
			b = b[:8192]
		}
		f.Add(b)
	}
	// the lab's TSO sender capture of a black hole (cut at 128 bytes)
	fh, err := os.Open(filepath.Join("testdata", "offload", "lab-offload-blackhole-ipv4-on-sender.pcap.gz"))
	if err != nil {
		f.Fatal(err)
	}
	z, err := gzip.NewReader(fh)
	if err != nil {
		f.Fatal(err)
	}
	b, err := io.ReadAll(z)
	fh.Close()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Analyze(bytes.NewReader(b), Options{MaxFlows: 8, MaxFragments: 4, FlowTable: 4, MaxFindings: 4})
		if r == nil {
			t.Fatal("nil report")
		}
		if err != nil && r.Packets > 0 && !r.Partial {
			t.Fatalf("error %v after %d packets, but the report is not marked partial", err, r.Packets)
		}
	})
}
