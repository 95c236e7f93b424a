package web_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mtukit/mtukit/web"
)

// startServer runs NewServer(cfg) on a loopback port behind LimitListener.
func startServer(t *testing.T, cfg web.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := web.NewServer("", cfg)
	go srv.Serve(web.LimitListener(ln, cfg.ConnsPerClient))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		srv.Close()
	})
	return ln.Addr().String()
}

// otherClient talks to the server from 127.0.0.2, a different client
// address on the loopback network.
func otherClient() *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: time.Second}
	return &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// served checks that another client is answered promptly.
func served(t *testing.T, addr, what string) {
	t.Helper()
	start := time.Now()
	resp, err := otherClient().Get("http://" + addr + "/api/v1/calc?stack=gre")
	if err != nil {
		t.Fatalf("%s: other client: %v", what, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || time.Since(start) > time.Second {
		t.Errorf("%s: other client got %d after %v", what, resp.StatusCode, time.Since(start))
	}
}

// closedWithin waits for the server to close c, reading whatever it sends.
func closedWithin(t *testing.T, c net.Conn, d time.Duration) (string, time.Duration) {
	t.Helper()
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(d))
	b, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after %v", d)
	}
	return string(b), time.Since(start)
}

func TestSlowClients(t *testing.T) {
	cfg := testConfig()
	// Long enough that "served" (within 1 s) proves the other client did
	// not wait for the slow one to be cut off.
	cfg.ReadHeaderTimeout = 2 * time.Second
	cfg.ReadTimeout = 3 * time.Second
	cfg.ConnsPerClient = 64
	addr := startServer(t, cfg)

	t.Run("slow headers", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET /api/v1/calc HTTP/1.1\r\nHost: x\r\nX-Slow: ") // and never finish
		served(t, addr, "during a slow header")
		_, took := closedWithin(t, c, 6*time.Second)
		if took > 4*time.Second {
			t.Errorf("slow header connection lived %v", took)
		}
	})
	t.Run("slow body", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "POST /api/v1/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n\xd4\xc3\xb2\xa1")
		served(t, addr, "during a slow upload")
		got, took := closedWithin(t, c, 7*time.Second)
		if took > 5*time.Second {
			t.Errorf("slow body connection lived %v", took)
		}
		if got != "" && !strings.HasPrefix(got, "HTTP/1.1 4") {
			t.Errorf("slow body answer: %q", got)
		}
	})
}

func TestConnectionsPerClient(t *testing.T) {
	cfg := testConfig()
	cfg.ConnsPerClient = 3
	cfg.ReadHeaderTimeout = 5 * time.Second
	addr := startServer(t, cfg)
	var held []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	// The fourth connection from the same client is closed at once...
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if got, took := closedWithin(t, c, 2*time.Second); got != "" || took > time.Second {
		t.Errorf("fourth connection: got %q after %v, want a close", got, took)
	}
	// ...while another client is served, and a held one still works.
	served(t, addr, "with one client at its limit")
	io.WriteString(held[0], "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(held[0]), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("held connection: %v", err)
	}
	resp.Body.Close()
	// Once connections close, the client may connect again.
	for _, h := range held {
		h.Close()
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("client still refused after closing its connections: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// One client gets one upload at a time: a second upload while the first
// is still arriving is refused at once, and other clients still upload.
func TestOneUploadPerClient(t *testing.T) {
	cfg := testConfig()
	cfg.ReadTimeout = 2 * time.Second
	addr := startServer(t, cfg)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST /api/v1/analyze HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n\xd4\xc3")
	// Once the server reads the slow body, the same client's next upload
	// is refused at once (before that, it may be read first: retry).
	deadline := time.Now().Add(2 * time.Second)
	for {
		start := time.Now()
		resp, err := http.Post("http://"+addr+"/api/v1/analyze", "application/octet-stream", strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 503 {
			if took := time.Since(start); took > time.Second {
				t.Errorf("refusal took %v", took)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("second upload from the same client: %d, want 503", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
	data, err := os.ReadFile(testCapture)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := otherClient().Post("http://"+addr+"/api/v1/analyze?name=x.pcap", "application/octet-stream", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("other client's upload: %d", resp.StatusCode)
	}
}
