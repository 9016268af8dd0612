package store

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/event"
)

// The kill test runs the test binary again as a child that appends to a
// store, with folds and compactions going on, printing each batch it got
// an acknowledgement for; the parent kills it with SIGKILL and checks
// that every acknowledged event is there exactly once.
const (
	childDirEnv    = "TREK_STORE_TEST_CHILD_DIR"
	childRunEnv    = "TREK_STORE_TEST_CHILD_RUN"
	childKillAtEnv = "TREK_STORE_TEST_CHILD_KILL_AT"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(childDirEnv); dir != "" {
		os.Exit(appendUntilKilled(dir, os.Getenv(childRunEnv), os.Getenv(childKillAtEnv)))
	}
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// childEvent is the event of batch b, index i, of run run.
func childEvent(run string, b, i int) Record {
	at := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(b%97) * time.Minute)
	return Record{Key: uint64(1 + (b*7+i)%40), Event: event.Event{
		MessageID: fmt.Sprintf("%s-%d-%d", run, b, i), Type: event.Track, Event: "Tick",
		Channel: "web", SourceID: "src", Timestamp: at, ReceivedAt: at,
		Properties: map[string]any{"b": strconv.Itoa(b)},
	}}
}

const childBatch = 10

func appendUntilKilled(dir, run, killAt string) int {
	defaultBlockRows = 32
	s, err := Open(context.Background(), dir, Options{HeadEvents: 200, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if killAt != "" {
		n, at := 0, 3 // the third checkpoint, or the fiftieth append
		if killAt == "after-log-append" {
			at = 50
		}
		s.crashAt = func(p string) bool {
			if p == killAt {
				if n++; n == at {
					syscall.Kill(os.Getpid(), syscall.SIGKILL)
				}
			}
			return false
		}
	}
	out := bufio.NewWriter(os.Stdout)
	for b := 0; ; b++ {
		recs := make([]Record, childBatch)
		for i := range recs {
			recs[i] = childEvent(run, b, i)
		}
		if err := s.Append(context.Background(), recs); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
		fmt.Fprintf(out, "ack %d\n", b)
		out.Flush()
		if b%37 == 36 {
			if err := s.Flush(context.Background()); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 4
			}
		}
	}
}

func TestSIGKILLWhileAppendingAndFoldingLosesAndDoublesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	acked := map[string][]int{} // run → acknowledged batches
	rng := rand.New(rand.NewPCG(1, 2))
	runs := []string{}
	for i := range 8 {
		runs = append(runs, fmt.Sprintf("r%d", i))
	}
	// The kill may also come from inside a checkpoint, at the moments
	// where a crash is most dangerous.
	runs = append(runs, "before-manifest", "after-manifest", "mid-column-file", "after-log-append")
	for _, run := range runs {
		killAt := ""
		if !strings.HasPrefix(run, "r") {
			killAt = run
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childDirEnv+"="+dir, childRunEnv+"="+run, childKillAtEnv+"="+killAt,
			"GORACE=atexit_sleep_ms=0")
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(time.Duration(100+rng.IntN(400)) * time.Millisecond)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var b int
			if _, err := fmt.Sscanf(sc.Text(), "ack %d", &b); err != nil {
				t.Fatalf("child said %q", sc.Text())
			}
			acked[run] = append(acked[run], b)
			if killAt == "" && time.Now().After(deadline) {
				cmd.Process.Signal(syscall.SIGKILL)
				break
			}
			if killAt != "" && time.Now().After(deadline.Add(20*time.Second)) {
				cmd.Process.Signal(syscall.SIGKILL)
				t.Errorf("run %s: the child never reached %s", run, killAt)
				break
			}
		}
		for sc.Scan() {
			// What the child printed before it died was acknowledged.
			var b int
			if _, err := fmt.Sscanf(sc.Text(), "ack %d", &b); err == nil {
				acked[run] = append(acked[run], b)
			}
		}
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("run %s: child ended with %v, not killed", run, err)
		}
		if len(acked[run]) == 0 {
			t.Fatalf("run %s: the child acknowledged nothing before it was killed", run)
		}

		s := openStore(t, dir, Options{Logger: slog.New(slog.DiscardHandler)})
		seen := map[string]int{}
		err = s.Journeys(context.Background(), func(key uint64, evs []event.Event) error {
			for i, e := range evs {
				seen[e.MessageID]++
				if i > 0 && e.Timestamp.Before(evs[i-1].Timestamp) {
					return fmt.Errorf("key %d out of order", key)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for id, n := range seen {
			if n != 1 {
				t.Fatalf("after run %s: event %s stored %d times", run, id, n)
			}
		}
		for r, bs := range acked {
			for _, b := range bs {
				for i := range childBatch {
					if id := childEvent(r, b, i).Event.MessageID; seen[id] != 1 {
						t.Fatalf("after run %s: acknowledged event %s is missing", run, id)
					}
				}
			}
		}
		s.Close()
	}
}
