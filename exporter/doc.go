// Package exporter is mtukit's Prometheus exporter: the multi-target
// pattern of blackbox_exporter, where Prometheus names the target in each
// scrape (GET /probe?target=HOST&module=NAME) and the exporter runs one
// path MTU probe (package probe) while Prometheus waits, returning only
// that target's series from a registry made for the request.
//
// Modules come from a YAML file (Config), checked at load with unknown keys
// refused; a request picks a module and a target, never sizes, rates or
// ports. An optional allow-list (allowed_targets) keeps the exporter from
// probing hosts it was not meant to.
//
// Paths rarely change, so the exporter remembers each path's last answer
// (module x address, a bounded table) and passes it to the prober as
// probe.Options.Prior: an unchanged path is re-validated with at most two
// probes, and a changed one gets the full search (plpmtud.Config.Known).
//
// Work is bounded: probes running at once (Options.Concurrency), one
// search per destination at a time, probe packets per second per target
// (the module's rate) and in total (Options.Rate), remembered answers
// (Options.MaxPaths), and every probe ends within the scrape timeout that
// Prometheus sends (X-Prometheus-Scrape-Timeout-Seconds) less an offset.
// Bad requests (unknown module, a target that does not resolve, an IPv6
// literal without brackets, a target outside the allow-list) get HTTP 400
// with a one-line message; a failed probe is HTTP 200 with probe_success 0.
package exporter
