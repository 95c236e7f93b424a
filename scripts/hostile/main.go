// Command hostile is the load test of docs/security.md (run by
// scripts/load-hostile.sh): against a live `mtukit serve` it runs issue 14's
// attacks, six slow uploaders (each announces a 1 MB upload and sends a byte
// a second, reconnecting when cut off) and an interface-bomb uploader (a
// gzip'd pcapng of 5 M interface description blocks, sent again as soon as
// it is answered), each from a loopback address of its own, while a normal
// client at another address calls calc and uploads a small capture, and
// measures its latency. It prints the normal client's latency percentiles
// and status codes and what the attackers got, and exits 1 if the normal
// client's p99 reaches -p99 or it got any answer but 200.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mtukit/mtukit/internal/tracegen"
)

func main() {
	addr := flag.String("addr", "", "server host:port")
	dur := flag.Duration("d", 20*time.Second, "duration (at most 5m)")
	capPath := flag.String("capture", "", "small capture the normal client uploads")
	slowN := flag.Int("slow", 6, "slow uploaders")
	bombN := flag.Int("bomb", 5_000_000, "interface description blocks in the bomb (0: no bomb)")
	p99Max := flag.Duration("p99", 50*time.Millisecond, "largest p99 latency accepted for the normal client")
	flag.Parse()
	if *addr == "" || *capPath == "" || *dur <= 0 || *dur > 5*time.Minute || *slowN < 0 || *slowN > 200 {
		fmt.Fprintln(os.Stderr, "hostile: want -addr, -capture, -d up to 5m, -slow 0..200")
		os.Exit(2)
	}
	capture, err := os.ReadFile(*capPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostile:", err)
		os.Exit(2)
	}
	var bomb []byte
	if *bombN > 0 {
		bomb = ngBomb(*bombN)
		fmt.Printf("bomb: %d interface blocks, %d bytes gzip'd\n", *bombN, len(bomb))
	}

	deadline := time.Now().Add(*dur)
	var wg sync.WaitGroup
	var slowConns, slow408, slowOther atomic.Int64
	for i := range *slowN {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src := net.IPv4(127, 0, 1, byte(10+i))
			for time.Now().Before(deadline) {
				slowConns.Add(1)
				switch got := slowUpload(*addr, src, deadline); {
				case strings.HasPrefix(got, "HTTP/1.1 408"):
					slow408.Add(1)
				case got != "":
					slowOther.Add(1)
				}
			}
		}()
	}
	bombCodes := newCounter()
	wg.Add(1)
	go func() {
		if bomb == nil {
			wg.Done()
			return
		}
		c := clientAt(net.IPv4(127, 0, 1, 100), 30*time.Second)
		defer wg.Done()
		for time.Now().Before(deadline) {
			resp, err := c.Post("http://"+*addr+"/api/v1/analyze?name=bomb.pcapng.gz", "application/octet-stream", bytes.NewReader(bomb))
			if err != nil {
				bombCodes.add("error")
				time.Sleep(100 * time.Millisecond)
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			bombCodes.add(fmt.Sprint(resp.StatusCode))
			if resp.StatusCode == 429 {
				time.Sleep(200 * time.Millisecond) // heavy rate limit: wait for a token
			}
		}
	}()

	time.Sleep(500 * time.Millisecond) // the attacks are under way
	normal := clientAt(net.IPv4(127, 0, 2, 1), 5*time.Second)
	calcLat, upLat := []time.Duration{}, []time.Duration{}
	codes := newCounter()
	for i := 0; time.Now().Before(deadline); i++ {
		t0 := time.Now()
		var resp *http.Response
		var err error
		upload := i%5 == 4 // an upload every 250 ms, within the 5/s heavy rate limit
		if upload {
			resp, err = normal.Post("http://"+*addr+"/api/v1/analyze?name=small.pcap", "application/octet-stream", bytes.NewReader(capture))
		} else {
			resp, err = normal.Get(fmt.Sprintf("http://%s/api/v1/calc?stack=gre&mtu=%d", *addr, 1280+i%7000))
		}
		if err != nil {
			codes.add("error")
		} else {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes.add(fmt.Sprint(resp.StatusCode))
		}
		if upload {
			upLat = append(upLat, time.Since(t0))
		} else {
			calcLat = append(calcLat, time.Since(t0))
		}
		time.Sleep(time.Until(t0.Add(50 * time.Millisecond)))
	}
	wg.Wait()

	all := append(slices.Clone(calcLat), upLat...)
	fmt.Printf("slow uploaders: %d, %d connections, %d cut off with 408, %d other answers\n", *slowN, slowConns.Load(), slow408.Load(), slowOther.Load())
	fmt.Printf("bomb uploads: %s\n", bombCodes)
	fmt.Printf("normal client: %d requests, status %s\n", len(all), codes)
	fmt.Printf("  calc:    %s\n", pct(calcLat))
	fmt.Printf("  analyze: %s\n", pct(upLat))
	fmt.Printf("  all:     %s\n", pct(all))
	ok := len(all) > 0 && p(all, 0.99) < *p99Max && codes.only("200")
	if !ok {
		fmt.Printf("FAIL: the normal client's p99 must stay under %v with only 200s\n", *p99Max)
		os.Exit(1)
	}
	fmt.Printf("PASS: p99 %v < %v, no answer but 200\n", p(all, 0.99).Round(10*time.Microsecond), *p99Max)
}

// slowUpload announces a 1 MB upload from src and sends a byte a second
// until the server answers or closes, or the deadline; it returns what the
// server sent.
func slowUpload(addr string, src net.IP, deadline time.Time) string {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Timeout: time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		time.Sleep(100 * time.Millisecond)
		return ""
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /api/v1/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n")
	got := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(bufio.NewReader(c))
		got <- string(b)
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case s := <-got:
			return s
		case <-tick.C:
			if time.Now().After(deadline) {
				return ""
			}
			c.Write([]byte{0})
		}
	}
}

func clientAt(ip net.IP, timeout time.Duration) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: time.Second}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 2}}
}

// ngBomb is a gzip'd interface bomb of n blocks (tracegen.WriteInterfaceBomb).
func ngBomb(n int) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	tracegen.WriteInterfaceBomb(zw, n)
	zw.Close()
	return buf.Bytes()
}

type counter struct {
	mu sync.Mutex
	m  map[string]int
}

func newCounter() *counter { return &counter{m: map[string]int{}} }

func (c *counter) add(k string) {
	c.mu.Lock()
	c.m[k]++
	c.mu.Unlock()
}

func (c *counter) only(k string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m) == 1 && c.m[k] > 0
}

func (c *counter) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ks []string
	for k := range c.m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	var parts []string
	for _, k := range ks {
		parts = append(parts, fmt.Sprintf("%s x%d", k, c.m[k]))
	}
	return strings.Join(parts, ", ")
}

func p(lat []time.Duration, q float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func pct(lat []time.Duration) string {
	r := func(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }
	return fmt.Sprintf("n=%d p50 %v p90 %v p99 %v max %v", len(lat), r(p(lat, 0.5)), r(p(lat, 0.9)), r(p(lat, 0.99)), r(p(lat, 1)))
}
