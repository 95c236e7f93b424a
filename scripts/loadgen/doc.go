// Command loadgen is the fallback load generator of scripts/load-web.sh when
// wrk is not installed: C keep-alive connections hammer one URL for a fixed
// time and it prints requests per second, latency percentiles and errors.
package main
