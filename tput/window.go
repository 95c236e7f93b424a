package tput

import (
	"fmt"
	"math"
	"time"
)

// MaxWindowScale is the largest window scale shift count (RFC 7323 §2.3).
const MaxWindowScale = 14

// ScaledWindow is the receive window in bytes for a 16-bit window field and
// a window scale shift count: field << shift. The shift is negotiated in the
// SYNs and is unrelated to the MSS.
func ScaledWindow(field int, shift int) (int64, error) {
	if field < 0 || field > 65535 {
		return 0, fmt.Errorf("window field %d outside 0..65535 (it is 16 bits; use the scale for more)", field)
	}
	if shift < 0 || shift > MaxWindowScale {
		return 0, fmt.Errorf("window scale %d outside 0..%d (RFC 7323)", shift, MaxWindowScale)
	}
	return int64(field) << shift, nil
}

// ScaleFor is the smallest window scale shift count that can express a
// window of the given bytes, or an error above 65535 << 14.
func ScaleFor(window int64) (int, error) {
	for s := 0; s <= MaxWindowScale; s++ {
		if window <= int64(65535)<<s {
			return s, nil
		}
	}
	return 0, fmt.Errorf("window %d bytes exceeds 65535 << 14 = %d, the largest TCP can advertise", window, int64(65535)<<14)
}

// CheckWindow validates a receive window in bytes.
func CheckWindow(window int64) error {
	if window <= 0 {
		return fmt.Errorf("window %d bytes must be positive", window)
	}
	if window > MaxWindow {
		return fmt.Errorf("window %d bytes is above 1 GiB (TCP's largest is 65535 << 14 = 1073725440)", window)
	}
	return nil
}

// WindowLimit is the goodput a window of bytes allows at an RTT: one window
// per round trip, window x 8 / RTT.
func WindowLimit(window int64, rtt time.Duration) Rate {
	if rtt <= 0 {
		return Unlimited
	}
	return Rate(float64(window) * 8 / seconds(rtt))
}

// BDP is the bandwidth-delay product in bytes: rate x RTT / 8.
func BDP(rate Rate, rtt time.Duration) float64 {
	return float64(rate) * seconds(rtt) / 8
}

// WindowNeeded is the smallest window, in whole bytes, that lets a transfer
// reach rate at rtt: the BDP rounded up.
func WindowNeeded(rate Rate, rtt time.Duration) int64 {
	return int64(math.Ceil(BDP(rate, rtt) - 1e-9))
}
