package analytics

import (
	"math"
	"testing"
)

func TestQuantileInterpolatesLikeNumpy(t *testing.T) {
	// Wanted values are numpy.quantile's (method "linear"), worked out by
	// hand: the value at index q·(n−1), interpolated between neighbours.
	for _, tc := range []struct {
		xs   []float64
		q    float64
		want float64
	}{
		{[]float64{1, 2, 3, 4}, 0.9, 3.7},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.9, 9.1},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.5, 5.5},
		{[]float64{0, 10}, 0.25, 2.5},
		{[]float64{0, 10}, 0.75, 7.5},
		{[]float64{1, 3, 7}, 0.5, 3},
		{[]float64{1, 3, 7}, 0.9, 6.2},
		{[]float64{5}, 0.9, 5},
		{[]float64{2, 4, 8}, 0, 2},
		{[]float64{2, 4, 8}, 1, 8},
		{[]float64{60, 120}, 0.9, 114},
	} {
		if got := quantile(tc.xs, tc.q); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("quantile(%v, %v) = %v, want %v", tc.xs, tc.q, got, tc.want)
		}
	}
	if !math.IsNaN(quantile(nil, 0.5)) || !math.IsNaN(median(nil)) {
		t.Error("no values must give NaN")
	}
}

func TestMedianAveragesTheMiddlePair(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{
		{[]float64{7}, 7},
		{[]float64{1, 2}, 1.5},
		{[]float64{1, 2, 3, 4}, 2.5},
		{[]float64{1, 2, 30}, 2},
		// (a+b)/2 in float64, as numpy.median gives it: 0.1+0.2 rounds up.
		{[]float64{0.1, 0.2}, 0.15000000000000002},
	} {
		if got := median(tc.xs); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.xs, got, tc.want)
		}
	}
}

func TestMedianP90SortsNanoseconds(t *testing.T) {
	med, p90 := medianP90([]int64{3e9, 1e9, 2e9})
	if med != 2 || math.Abs(p90-2.8) > 1e-12 {
		t.Errorf("got %v, %v; want 2, 2.8", med, p90)
	}
	if med, p90 := medianP90(nil); med != 0 || p90 != 0 {
		t.Errorf("no durations: got %v, %v; want 0, 0", med, p90)
	}
}
