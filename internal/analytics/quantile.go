package analytics

import (
	"math"
	"slices"
)

// quantile returns the q-quantile (0 ≤ q ≤ 1) of sorted, ascending values,
// computed as numpy's default ("linear": interpolation between the two
// closest ranks, at virtual index q·(n−1)), so that trek's medians and
// p90s agree with pm4py's, which come from numpy and pandas. The
// interpolation is numpy's own two-sided form (from the lower value below
// the midpoint, from the upper value above it), which keeps the last digit
// equal too. It returns NaN for no values.
func quantile(sorted []float64, q float64) float64 {
	n := len(sorted)
	switch {
	case n == 0 || math.IsNaN(q):
		return math.NaN()
	case q <= 0:
		return sorted[0]
	case q >= 1:
		return sorted[n-1]
	}
	v := float64(n-1) * q
	lo := math.Floor(v)
	i := int(lo)
	if i >= n-1 {
		return sorted[n-1]
	}
	a, b := sorted[i], sorted[i+1]
	t := v - lo
	d := b - a
	if t >= 0.5 {
		return b - d*(1-t)
	}
	return a + d*t
}

// median returns the median of sorted, ascending values as numpy.median
// computes it: the middle value, or the mean of the two middle values
// ((a+b)/2, which can differ from quantile(sorted, 0.5) in the last bit).
// It returns NaN for no values.
func median(sorted []float64) float64 {
	n := len(sorted)
	switch {
	case n == 0:
		return math.NaN()
	case n%2 == 1:
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// medianP90 sorts nanosecond durations in place and returns their
// median and p90 in seconds (0 and 0 for none, so that a result never
// holds a NaN, which JSON cannot encode).
func medianP90(nanos []int64) (med, p90 float64) {
	if len(nanos) == 0 {
		return 0, 0
	}
	slices.Sort(nanos)
	secs := make([]float64, len(nanos))
	for i, d := range nanos {
		secs[i] = nanosToSeconds(d)
	}
	return median(secs), quantile(secs, 0.9)
}

// nanosToSeconds converts nanoseconds to seconds in one correctly rounded
// division, which gives the same float as Python's and pandas'
// total_seconds for any duration they can hold.
func nanosToSeconds(nanos int64) float64 { return float64(nanos) / 1e9 }
