package cli

import (
	"bufio"
	"bytes"
	"os"
	"runtime/debug"
	"strconv"

	"github.com/trekhq/trek/internal/ingest"
)

// importGCPercent is the garbage collector's target for an offline
// import (see ingest.BulkGCPercent).
const importGCPercent = ingest.BulkGCPercent

// batchGC sets the garbage collector for a batch job unless GOGC or
// GOMEMLIMIT say otherwise, and returns a function that restores the
// previous settings. A soft memory limit of half the machine's memory
// keeps the larger target from pushing the machine into swap: near it
// the collector runs more often again.
func batchGC() (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	prevPercent := debug.SetGCPercent(importGCPercent)
	prevLimit := debug.SetMemoryLimit(-1)
	if total, ok := physicalMemory(); ok {
		debug.SetMemoryLimit(int64(total / 2))
	}
	return func() {
		debug.SetGCPercent(prevPercent)
		debug.SetMemoryLimit(prevLimit)
	}
}

// physicalMemory is the machine's memory from /proc/meminfo; ok is false
// where there is none (not Linux) or it cannot be read.
func physicalMemory() (bytes uint64, ok bool) {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	return parseMemTotal(data)
}

// parseMemTotal reads the MemTotal line of /proc/meminfo ("MemTotal:
// 24576000 kB").
func parseMemTotal(data []byte) (uint64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) != 3 || string(f[0]) != "MemTotal:" || string(f[2]) != "kB" {
			continue
		}
		kb, err := strconv.ParseUint(string(f[1]), 10, 64)
		if err != nil || kb == 0 {
			return 0, false
		}
		return kb << 10, true
	}
	return 0, false
}
