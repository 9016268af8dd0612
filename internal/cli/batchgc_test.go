package cli

import (
	"runtime/debug"
	"testing"
)

func TestParseMemTotalReadsKilobytes(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want uint64
		ok   bool
	}{
		{"linux", "MemTotal:       24576000 kB\nMemFree:         1000 kB\n", 24576000 << 10, true},
		{"not first", "MemFree:         1000 kB\nMemTotal: 2048 kB\n", 2048 << 10, true},
		{"missing", "MemFree:         1000 kB\n", 0, false},
		{"zero", "MemTotal: 0 kB\n", 0, false},
		{"not a number", "MemTotal: lots kB\n", 0, false},
		{"other unit", "MemTotal: 2048 MB\n", 0, false},
		{"empty", "", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseMemTotal([]byte(tc.in))
			if got != tc.want || ok != tc.ok {
				t.Errorf("parseMemTotal(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestBatchGCSetsAndRestoresTheCollector(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	before, limitBefore := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1)
	debug.SetGCPercent(before)
	restore := batchGC()
	got := debug.SetGCPercent(-1)
	debug.SetGCPercent(got)
	limit := debug.SetMemoryLimit(-1)
	restore()
	if got != importGCPercent {
		t.Errorf("GC percent during the import is %d, want %d", got, importGCPercent)
	}
	if _, ok := physicalMemory(); ok && limit == limitBefore {
		t.Errorf("memory limit during the import is unchanged (%d)", limit)
	}
	after := debug.SetGCPercent(-1)
	debug.SetGCPercent(after)
	if after != before || debug.SetMemoryLimit(-1) != limitBefore {
		t.Errorf("after restore: GC percent %d (was %d), memory limit %d (was %d)", after, before, debug.SetMemoryLimit(-1), limitBefore)
	}
}

func TestBatchGCLeavesAnExplicitGOGCAlone(t *testing.T) {
	t.Setenv("GOGC", "150")
	before := debug.SetGCPercent(-1)
	debug.SetGCPercent(before)
	restore := batchGC()
	got := debug.SetGCPercent(-1)
	debug.SetGCPercent(got)
	restore()
	if got != before {
		t.Errorf("GC percent is %d with GOGC set, want it left at %d", got, before)
	}
}
