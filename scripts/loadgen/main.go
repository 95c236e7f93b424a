package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"
)

func main() {
	url := flag.String("url", "", "URL to GET")
	conns := flag.Int("c", 64, "concurrent connections")
	dur := flag.Duration("d", 10*time.Second, "duration (at most 5m)")
	vary := flag.Bool("vary", false, "append &mtu=N with N changing on every request (1280..8999)")
	flag.Parse()
	if *url == "" || *conns < 1 || *conns > 4096 || *dur <= 0 || *dur > 5*time.Minute {
		fmt.Fprintln(os.Stderr, "loadgen: want -url, -c 1..4096 and -d up to 5m")
		os.Exit(2)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: *conns, MaxConnsPerHost: *conns, DisableCompression: true}
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	deadline := time.Now().Add(*dur)
	var mu sync.Mutex
	var all []time.Duration
	errs := 0
	var wg sync.WaitGroup
	start := time.Now()
	for g := range *conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 1<<16)
			bad, n := 0, g*7
			for time.Now().Before(deadline) {
				target := *url
				if *vary {
					n++
					target += "&mtu=" + strconv.Itoa(1280+(n*7919)%7720)
				}
				t0 := time.Now()
				resp, err := client.Get(target)
				if err != nil {
					bad++
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					bad++
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			all = append(all, lat...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(all)
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(float64(len(all))*p))]
	}
	fmt.Printf("requests: %d in %.1fs\nrequests/s: %.0f\np50: %v\np99: %v\nmax: %v\nerrors: %d\n",
		len(all), elapsed.Seconds(), float64(len(all))/elapsed.Seconds(), pct(0.50), pct(0.99), pct(1), errs)
}
