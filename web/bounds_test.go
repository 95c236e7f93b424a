package web_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mtukit/mtukit/internal/tracegen"
	"github.com/mtukit/mtukit/web"
)

// ngBomb is a pcapng of a section header and n interface description
// blocks (tracegen.WriteInterfaceBomb).
func ngBomb(n int) []byte {
	var b bytes.Buffer
	tracegen.WriteInterfaceBomb(&b, n)
	return b.Bytes()
}

// tinyPcap is a classic pcap of n empty Ethernet records (16 bytes each):
// the most packets per byte a capture can hold, and very compressible.
func tinyPcap(n int) []byte {
	b := make([]byte, 24, 24+16*n)
	binary.LittleEndian.PutUint32(b[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(b[4:], 2)
	binary.LittleEndian.PutUint16(b[6:], 4)
	binary.LittleEndian.PutUint32(b[16:], 65535)
	binary.LittleEndian.PutUint32(b[20:], 1)
	rec := make([]byte, 16)
	binary.LittleEndian.PutUint32(rec[0:], 1700000000)
	for range n {
		b = append(b, rec...)
	}
	return b
}

func gz(t *testing.T, b []byte, level int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func post(t *testing.T, h http.Handler, target string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	return do(t, h, httptest.NewRequest("POST", target, bytes.NewReader(body)))
}

// TestUploadWorkBounds: issue 14 items 1-3. The upload limit bounds
// the bytes sent; the server also bounds what decompression may produce,
// the packets analyzed, the pcapng interfaces declared (1024, tighter than
// the analyzer's 65535: the interface bomb costs next to nothing) and the
// flows kept (a request's max-flows), and says
// which bound and which serve flag in the error. Before, max-flows=100000000
// was taken (770 MB), and a gzip'd capture decompressed without a bound.
func TestUploadWorkBounds(t *testing.T) {
	cfg := testConfig()
	cfg.MaxUnpacked = 1 << 20
	cfg.MaxPackets = 100_000
	cfg.MaxFlows = 1000
	h := web.New(cfg)
	small := tinyPcap(100)
	for _, tc := range []struct {
		name, target string
		body         []byte
		code         int
		param, want  string
	}{
		{"max-flows over the server's", "/api/v1/analyze?max-flows=100000000", small, 400, "max-flows", "max-flows 100000000: the server keeps at most 1000 flows (serve --max-flows)"},
		{"max-flows one over", "/api/v1/analyze?max-flows=1001", small, 400, "max-flows", "at most 1000 flows"},
		{"decompresses past the bound", "/api/v1/analyze?name=b.pcap.gz", gz(t, tinyPcap(70000), gzip.BestCompression), 413, "file", "b.pcap.gz: decompresses to more than the 1 MiB the server reads (serve --max-unpacked"},
		{"gzip in gzip past the bound", "/api/v1/analyze", gz(t, gz(t, tinyPcap(70000), 9), 9), 413, "file", "decompresses to more than the 1 MiB"},
		{"gzip four deep", "/api/v1/analyze", gz(t, gz(t, gz(t, gz(t, small, 9), 9), 9), 9), 400, "file", "gzip inside gzip more than 3 deep"},
		{"interface bomb", "/api/v1/analyze?name=bomb.pcapng.gz", gz(t, ngBomb(100_000), 9), 413, "file", "bomb.pcapng.gz: pcapng block 1026 at byte 20508: interface description 1025 of section 1, over the 1024 interfaces accepted in a section (serve --max-interfaces"},
		{"interface bomb, plain", "/api/v1/analyze", ngBomb(2000), 413, "file", "over the 1024 interfaces"},
		{"too many packets", "/api/v1/analyze?name=p.pcap", tinyPcap(150_000), 413, "file", "p.pcap: more than the 100000 packets the server analyzes (serve --max-packets"},
		{"sim trials over the server's", "/api/v1/sim?trials=20001", nil, 400, "trials", "at most 20000 per row (serve --max-trials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w *httptest.ResponseRecorder
			if tc.body == nil {
				w = get(t, h, tc.target)
			} else {
				w = post(t, h, tc.target, tc.body)
			}
			if w.Code != tc.code {
				t.Fatalf("code %d, want %d: %s", w.Code, tc.code, w.Body)
			}
			if e := decodeError(t, w); e.Param != tc.param || !strings.Contains(e.Error, tc.want) {
				t.Errorf("error %+v, want param %q and %q", e, tc.param, tc.want)
			}
		})
	}
	// within the bounds: the packets allowed, gzip'd to 1 MiB, three layers,
	// the interfaces allowed
	for _, body := range [][]byte{ngBomb(1024), tinyPcap(100_000), gz(t, tinyPcap((1<<20-24)/16), 9), gz(t, gz(t, gz(t, small, 9), 9), 9)} {
		if w := post(t, h, "/api/v1/analyze?max-flows=1000", body); w.Code != 200 {
			t.Errorf("within the bounds: %d %s", w.Code, w.Body)
		}
	}
}

// TestAnalyzeDeadline: issue 14 item 4. An analysis stops at HeavyTimeout
// with its CPU and answers 503; before, /api/v1/analyze ran every packet
// (a 29 MB upload of 122.7 M packets: 12.3 s, past the 10 s limit). Here 8 M
// empty packets (128 MB, a 200 KB gzip) that take seconds to read end
// within a second of a 100 ms limit, and the slot is free at once after.
func TestAnalyzeDeadline(t *testing.T) {
	bomb := gz(t, tinyPcap(8_000_000), gzip.BestSpeed)
	cfg := testConfig()
	cfg.HeavyTimeout = 100 * time.Millisecond
	cfg.MaxHeavy = 1
	cfg.MaxUnpacked = 1 << 30
	cfg.MaxPackets = 1 << 40
	h := web.New(cfg)
	start := time.Now()
	w := post(t, h, "/api/v1/analyze", bomb)
	took := time.Since(start)
	t.Logf("%d-byte upload answered %d after %v", len(bomb), w.Code, took)
	if w.Code != 503 || !strings.Contains(decodeError(t, w).Error, "analyze took longer than the server's 100ms limit") {
		t.Fatalf("code %d: %s", w.Code, w.Body)
	}
	if took > time.Second {
		t.Errorf("the job ran %v past a 100 ms limit", took)
	}
	data, _ := os.ReadFile(testCapture)
	if w := post(t, h, "/api/v1/analyze", data); w.Code != 200 {
		t.Errorf("next upload: %d %s", w.Code, w.Body)
	}
}

// TestUploadMemory: uploads take memory as they arrive, from UploadMemory
// in all; an upload that finds none left is answered 503, and the memory
// comes back when an upload is done.
func TestUploadMemory(t *testing.T) {
	cfg := testConfig()
	cfg.UploadMemory = 64 << 10
	h := web.New(cfg)
	data, _ := os.ReadFile(testCapture)
	big := append(bytes.Clone(data), make([]byte, 100<<10)...)
	for range 3 {
		if w := post(t, h, "/api/v1/analyze", big); w.Code != 503 {
			t.Errorf("upload over the memory left: %d %s", w.Code, w.Body)
		}
		if w := post(t, h, "/api/v1/analyze", data); w.Code != 200 {
			t.Errorf("upload within it: %d %s", w.Code, w.Body)
		}
	}
}

// clientAt dials the server from a loopback address of its own, a client
// of its own to the server's per-client limits.
func clientAt(ip net.IP) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: time.Second}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// TestSlowUploaders: issue 14 item 5. Six clients each announce a 1 MB
// upload and send a byte a second. Before, they held every upload slot
// (2*MaxHeavy+2 = 6 here) until they gave up, and every other client's
// analyze got 503. Now a slow sender holds no slot another client needs
// (upload memory is taken as bytes arrive), and it is cut off with 408 once
// it falls behind MinUploadRate after UploadGrace.
func TestSlowUploaders(t *testing.T) {
	cfg := testConfig()
	cfg.MaxHeavy = 2
	cfg.UploadGrace = time.Second
	cfg.ConnsPerClient = 16
	addr := startServer(t, cfg)
	var slow []net.Conn
	for i := range 6 {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(10+i))}}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /api/v1/analyze HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n\xd4")
		slow = append(slow, c)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() { // a byte a second each
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
				for _, c := range slow {
					c.Write([]byte{0xc3})
				}
			}
		}
	}()
	time.Sleep(200 * time.Millisecond) // the server reads their headers
	data, _ := os.ReadFile(testCapture)
	start := time.Now()
	resp, err := clientAt(net.IPv4(127, 0, 2, 1)).Post("http://"+addr+"/api/v1/analyze", "application/octet-stream", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || time.Since(start) > time.Second {
		t.Errorf("normal upload during six slow ones: %d after %v", resp.StatusCode, time.Since(start))
	}
	for i, c := range slow {
		got, took := closedWithin(t, c, 5*time.Second)
		if !strings.HasPrefix(got, "HTTP/1.1 408") || !strings.Contains(got, "upload slower than 16 KiB/s") {
			t.Errorf("slow uploader %d: %q", i, got)
		}
		if took > 3*time.Second {
			t.Errorf("slow uploader %d held on %v", i, took)
		}
	}
}
