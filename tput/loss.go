package tput

import (
	"math"
	"time"
)

// MathisC is the Mathis et al. constant for an ACK every b segments:
// sqrt(3/(2b)); sqrt(3/2) = 1.2247 for b = 1.
func MathisC(b int) float64 {
	if b < 1 {
		b = 1
	}
	return math.Sqrt(3 / (2 * float64(b)))
}

// Mathis is the loss limit of Mathis et al. (1997): payload bytes per
// segment x 8 / RTT x C / sqrt(p). With p = 0 there is no loss limit.
func Mathis(payload int, rtt time.Duration, p, c float64) Rate {
	if p <= 0 || rtt <= 0 {
		return Unlimited
	}
	return Rate(float64(payload) * 8 / seconds(rtt) * c / math.Sqrt(p))
}

// PFTKParams are the inputs of the Padhye et al. model besides the loss rate.
type PFTKParams struct {
	RTT time.Duration
	T0  time.Duration // retransmission timeout
	B   int           // segments acknowledged per ACK (1, or 2 with delayed ACKs)
	// Wmax is the receive window in segments; 0 means unlimited.
	Wmax float64
}

func (q PFTKParams) b() float64 {
	if q.B < 1 {
		return 1
	}
	return float64(q.B)
}

// pftkQ is Q-hat(w) of PFTK equation 24 (closed form): the probability that
// a loss in a window of w segments is detected by a timeout.
func pftkQ(p, w float64) float64 {
	if w <= 3 {
		return 1
	}
	q := 1 - p
	num := (1 - math.Pow(q, 3)) * (1 + math.Pow(q, 3)*(1-math.Pow(q, w-3)))
	den := 1 - math.Pow(q, w)
	if den <= 0 {
		return 1
	}
	return math.Min(1, num/den)
}

// pftkF is f(p) of PFTK: the expected length of a timeout sequence in units
// of T0, times (1-p).
func pftkF(p float64) float64 {
	return 1 + p + 2*p*p + 4*math.Pow(p, 3) + 8*math.Pow(p, 4) + 16*math.Pow(p, 5) + 32*math.Pow(p, 6)
}

// PFTKExpectedWindow is E[Wu] of PFTK equation 13, the mean unconstrained
// congestion window in segments.
func PFTKExpectedWindow(p float64, b int) float64 {
	bb := float64(max(b, 1))
	a := (2 + bb) / (3 * bb)
	return a + math.Sqrt(8*(1-p)/(3*bb*p)+a*a)
}

// PFTK is the full model of Padhye et al. (1998), equation 32, in segments
// per second. With p = 0 it is Wmax/RTT (unlimited when Wmax is 0).
func PFTK(p float64, q PFTKParams) float64 {
	rtt, t0, b := seconds(q.RTT), seconds(q.T0), q.b()
	if p <= 0 {
		if q.Wmax > 0 && rtt > 0 {
			return q.Wmax / rtt
		}
		return math.Inf(1)
	}
	if p >= 1 {
		return 0
	}
	f := pftkF(p)
	ewu := PFTKExpectedWindow(p, int(b))
	if q.Wmax <= 0 || ewu < q.Wmax {
		qw := pftkQ(p, ewu)
		return ((1-p)/p + ewu + qw/(1-p)) / (rtt*(b/2*ewu+1) + qw*t0*f/(1-p))
	}
	w := q.Wmax
	qw := pftkQ(p, w)
	return ((1-p)/p + w + qw/(1-p)) / (rtt*(b/8*w+(1-p)/(p*w)+2) + qw*t0*f/(1-p))
}

// PFTKApprox is the approximation of Padhye et al. (1998), equation 33, in
// segments per second.
func PFTKApprox(p float64, q PFTKParams) float64 {
	rtt, t0, b := seconds(q.RTT), seconds(q.T0), q.b()
	wl := math.Inf(1)
	if q.Wmax > 0 && rtt > 0 {
		wl = q.Wmax / rtt
	}
	if p <= 0 {
		return wl
	}
	d := rtt*math.Sqrt(2*b*p/3) + t0*math.Min(1, 3*math.Sqrt(3*b*p/8))*p*(1+32*p*p)
	return math.Min(wl, 1/d)
}

// DefaultRTO is the retransmission timeout assumed when none is given:
// RTT + 200 ms, what Linux settles on (srtt + max(4 rttvar, TCP_RTO_MIN))
// when the RTT is steady.
func DefaultRTO(rtt time.Duration) time.Duration { return rtt + 200*time.Millisecond }
