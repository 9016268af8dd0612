package analytics

import (
	"math"
	"math/rand/v2"
	"slices"
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

// TestMedianP90SelectsAsSortingWould compares the selection with sorting
// on many shapes of input: random, few distinct values, sorted, reversed.
func TestMedianP90SelectsAsSortingWould(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 2))
	shapes := map[string]func(i, n int) int64{
		"random":   func(i, n int) int64 { return r.Int64N(1e12) },
		"repeats":  func(i, n int) int64 { return r.Int64N(3) * 1e9 },
		"sorted":   func(i, n int) int64 { return int64(i) * 1e6 },
		"reversed": func(i, n int) int64 { return int64(n-i) * 1e6 },
		"zeros":    func(i, n int) int64 { return 0 },
	}
	for name, gen := range shapes {
		for _, n := range []int{1, 2, 3, 10, 17, 100, 1001, 20000} {
			xs := make([]int64, n)
			for i := range xs {
				xs[i] = gen(i, n)
			}
			sorted := slices.Clone(xs)
			slices.Sort(sorted)
			secs := make([]float64, n)
			for i, x := range sorted {
				secs[i] = float64(x) / 1e9
			}
			med, p90 := medianP90(xs)
			if med != median(secs) || p90 != quantile(secs, 0.9) {
				t.Errorf("%s, %d values: got %v, %v; want %v, %v", name, n, med, p90, median(secs), quantile(secs, 0.9))
			}
		}
	}
}
