package exporter

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mtukit/mtukit/probe"
)

// register renders one probe's report as the series of a /probe answer.
// Within one probe a count is a gauge (the registry is thrown away after
// the scrape); counters with _total live on /metrics.
func register(reg *prometheus.Registry, m *Module, v4 bool, rep *probe.Report, ok bool, took time.Duration) {
	gauge := func(name, help string, v float64) {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
		g.Set(v)
		reg.MustRegister(g)
	}
	b := func(x bool) float64 {
		if x {
			return 1
		}
		return 0
	}
	gauge("probe_success", "1 if the path MTU search completed, else 0.", b(ok))
	gauge("probe_duration_seconds", "How long the probe took, in seconds.", took.Seconds())
	proto := 6.0
	if v4 {
		proto = 4
	}
	gauge("probe_ip_protocol", "IP version of the probed address (4 or 6).", proto)
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "mtukit_probe_info", Help: "1, labelled with how the path was probed (method, search strategy)."}, []string{"method", "search"})
	info.WithLabelValues(m.Method, m.Search).Set(1)
	reg.MustRegister(info)
	if rep == nil {
		return
	}
	gauge("mtukit_probes_sent", "Probe packets this probe sent.", float64(rep.ProbesSent))
	gauge("mtukit_probes_lost", "Probe packets of this probe that were never answered.", float64(rep.ProbesLost))
	gauge("mtukit_ptb_received", "ICMP Fragmentation Needed / Packet Too Big messages about this path read during the probe.", float64(rep.PTBReceived))
	gauge("mtukit_ptb_ignored", "Of those, the ones rejected (forged, not quoting a probe in flight, or an unusable MTU).", float64(rep.PTBIgnored))
	if !ok {
		return
	}
	gauge("mtukit_path_mtu_bytes", "Path MTU: the largest IP packet, IP header included, acknowledged across the path.", float64(rep.PMTU))
	gauge("mtukit_blackhole", "1 if packets above the path MTU vanish with no ICMP to say why (confirmed by retries), else 0.", b(rep.Blackhole))
	gauge("mtukit_revalidated", "1 if the remembered path MTU was confirmed with at most 2 probes instead of a search, else 0.", b(rep.Revalidated))
	if m.Method == probe.MethodTCP && rep.MSSSeenByPeer > 0 {
		gauge("mtukit_mss_clamped", "1 if a middlebox rewrote the MSS option of our SYN (tcp method), else 0.", b(rep.MSSClamped))
		gauge("mtukit_mss_seen_by_peer_bytes", "MSS option of our SYN as the responder received it (tcp method).", float64(rep.MSSSeenByPeer))
	}
	if rec := rep.Recommended; rec != nil {
		mss := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "mtukit_recommended_mss_bytes",
			Help: "MSS clamp for the module's stack over the measured path MTU, by family (calc's advice)."}, []string{"family"})
		mss.WithLabelValues("ipv4").Set(float64(rec.MSS.IPv4))
		if rec.MSS.IPv6 > 0 {
			mss.WithLabelValues("ipv6").Set(float64(rec.MSS.IPv6))
		}
		reg.MustRegister(mss)
		gauge("mtukit_recommended_mtu_bytes", "Interface MTU for the module's stack over the measured path MTU (calc's advice).", float64(rec.TunnelMTU))
	}
	if h := rep.Hops; h != nil && h.DropHop > 0 {
		gauge("mtukit_drop_hop", "Hop (TTL) whose next link drops packets above the path MTU (hops: true).", float64(h.DropHop))
	}
}
