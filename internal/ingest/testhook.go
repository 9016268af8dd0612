package ingest

import (
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// KillAfterAppendEnv names the crash-test hook: with
// TREK_TEST_KILL_AFTER_APPEND=N in its environment, the process SIGKILLs
// itself right after the Nth successful event-store Append returns, before
// the dedup index is updated and before any request of that group is
// answered. It exists for cmd/trek's crash test, which must land a kill
// exactly between the durable write and everything that follows it; no
// timing from outside the process can aim that precisely. Unset, 0 or not
// a number: off, and the hook costs one comparison per group commit.
const KillAfterAppendEnv = "TREK_TEST_KILL_AFTER_APPEND"

var (
	killAfterAppend = killAfterAppendSetting(os.Getenv(KillAfterAppendEnv))
	appendsDone     atomic.Int64 // counted across workspaces: each has its own writer
)

func killAfterAppendSetting(v string) int64 {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// testKillAfterAppend is called by the writer right after the event store
// has made a group durable. See KillAfterAppendEnv.
func testKillAfterAppend() {
	if killAfterAppend == 0 || appendsDone.Add(1) < killAfterAppend {
		return
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	// The signal is delivered asynchronously; nothing after the append may
	// run meanwhile, so this goroutine, the only writer, waits for it.
	for {
		time.Sleep(time.Second)
	}
}
