package analytics

import "testing"

// The process queries over BPIC 2012 (262,200 events, 13,087 journeys),
// the Index built beforehand; the target is under 200 ms each.

func BenchmarkDFGBPIC2012(b *testing.B) {
	ix := procLog(b, "bpic2012.xes.gz")
	b.ResetTimer()
	for b.Loop() {
		if _, err := DFG(b.Context(), ix, DFGQuery{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVariantsBPIC2012(b *testing.B) {
	ix := procLog(b, "bpic2012.xes.gz")
	b.ResetTimer()
	for b.Loop() {
		if _, err := Variants(b.Context(), ix, VariantsQuery{Limit: maxVariants}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPathsBPIC2012(b *testing.B) {
	ix := procLog(b, "bpic2012.xes.gz")
	q := PathsQuery{Anchor: &Matcher{Event: "A_SUBMITTED"}, Steps: 10, CollapseRepeats: true}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Paths(b.Context(), ix, q); err != nil {
			b.Fatal(err)
		}
	}
}
