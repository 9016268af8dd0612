package analytics

import (
	"math"
	"math/bits"
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
	return quantileAt(len(sorted), func(i int) float64 { return sorted[i] }, q)
}

// quantileAt is quantile over n sorted values read through at, so that
// values kept in another form (nanoseconds) need no converted copy.
func quantileAt(n int, at func(int) float64, q float64) float64 {
	switch {
	case n == 0 || math.IsNaN(q):
		return math.NaN()
	case q <= 0:
		return at(0)
	case q >= 1:
		return at(n - 1)
	}
	v := float64(n-1) * q
	lo := math.Floor(v)
	i := int(lo)
	if i >= n-1 {
		return at(n - 1)
	}
	a, b := at(i), at(i+1)
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
	return medianAt(len(sorted), func(i int) float64 { return sorted[i] })
}

func medianAt(n int, at func(int) float64) float64 {
	switch {
	case n == 0:
		return math.NaN()
	case n%2 == 1:
		return at(n / 2)
	}
	return (at(n/2-1) + at(n/2)) / 2
}

// medianP90 returns the median and p90, in seconds, of nanosecond
// durations, which it reorders; 0 and 0 for none, so that a result never
// holds a NaN, which JSON cannot encode. It selects the few ranks the two
// numbers read instead of sorting: linear time, which is most of a DFG's
// cost otherwise. Converting after selecting gives the same numbers as
// sorting seconds: the conversion keeps the order.
func medianP90(nanos []int64) (med, p90 float64) {
	n := len(nanos)
	if n == 0 {
		return 0, 0
	}
	// The ranks medianAt and quantileAt(…, 0.9) read, highest first; each
	// selection leaves the smaller values before the rank, so the next,
	// lower rank is selected among them.
	i := int(math.Floor(float64(n-1) * 0.9))
	ranks := []int{min(i+1, n-1), i, n / 2}
	if n%2 == 0 {
		ranks = append(ranks, n/2-1)
	}
	slices.SortFunc(ranks, func(a, b int) int { return b - a })
	end := n
	for _, r := range slices.Compact(ranks) {
		nthElement(nanos[:end], r)
		end = r
	}
	at := func(i int) float64 { return seconds(nanos[i]) }
	return medianAt(n, at), quantileAt(n, at, 0.9)
}

// nthElement reorders xs so that xs[k] holds the value sorting would put
// there, with no greater value before it and no smaller one after:
// quickselect with a three-way partition (durations repeat a lot, zero
// above all), falling back to sorting the range left when the pivots keep
// being poor, so that the worst case stays O(n log n).
func nthElement(xs []int64, k int) {
	lo, hi := 0, len(xs)-1
	budget := 2 * bits.Len(uint(len(xs)))
	for hi > lo {
		if hi-lo < 16 || budget == 0 {
			slices.Sort(xs[lo : hi+1])
			return
		}
		budget--
		a, b, c := xs[lo], xs[lo+(hi-lo)/2], xs[hi]
		pivot := max(min(a, b), min(max(a, b), c))
		lt, i, gt := lo, lo, hi
		for i <= gt {
			switch x := xs[i]; {
			case x < pivot:
				xs[lt], xs[i] = x, xs[lt]
				lt++
				i++
			case x > pivot:
				xs[i], xs[gt] = xs[gt], x
				gt--
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt - 1
		case k > gt:
			lo = gt + 1
		default:
			return
		}
	}
}
