// Package web is mtukit's web page and JSON API, served by `mtukit serve`.
//
// The API (versioned under /api/v1, described by /api/v1/openapi.json) returns
// the same bytes as the CLI's --json for the same parameters: query parameters
// bind to the domain packages' typed requests (params.go), the reports come
// from those packages (advise, tput, plpmtud/sim, capture), bad input is their
// encap.ParamError, and internal/jsonout encodes them. The endpoints are one
// table (routes.go). The page
// is rendered on the server with html/template; the segmentation blueprint and
// the efficiency bar are SVG drawn here from advise.Report, to scale. A small
// hand-written script (assets/app.js) fetches fresh HTML fragments on every
// change; without it the page still works as a plain GET form. Every asset is
// embedded, so the page works offline and loads nothing from elsewhere.
//
// Hardening: server timeouts (NewServer), request body limits, a semaphore on
// heavy work (tput, sim, analyze), per-client token-bucket rate limits, a strict
// Content-Security-Policy and the usual security headers. No endpoint sends
// packets.
package web
