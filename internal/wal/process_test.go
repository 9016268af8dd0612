package wal

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The test binary, run as a child with childEnv set to a directory,
// appends to the log there from several goroutines until it is killed,
// printing "lsn id" for every acknowledged record. With killAtEnv set to
// "write:N" or "sync:N" it kills itself with SIGKILL right after its Nth
// segment write or fsync returns: between the write and the fsync, or
// between the fsync and the acknowledgement.
const (
	childEnv  = "TREK_WAL_TEST_CHILD"
	killAtEnv = "TREK_WAL_TEST_KILL_AT"
)

func TestMain(m *testing.M) {
	if d := os.Getenv(childEnv); d != "" {
		os.Exit(child(d, os.Getenv(killAtEnv)))
	}
	os.Exit(m.Run())
}

func child(dir, killAt string) int {
	var fsys FS = OSFS{}
	var suicide *suicideFS
	if killAt != "" {
		op, n, _ := strings.Cut(killAt, ":")
		k, err := strconv.Atoi(n)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad", killAtEnv, killAt)
			return 2
		}
		suicide = &suicideFS{op: op, n: int64(k)}
		fsys = suicide
	}
	l, err := Open(dir, Options{SegmentBytes: 128 << 10, FS: fsys, Logger: quietLogger()})
	if err == nil {
		err = l.Replay(func(uint64, []byte) error { return nil })
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if suicide != nil {
		// Count from the first append on, not Replay's own writes.
		suicide.armed.Store(true)
	}
	var out sync.Mutex
	say := func(s string) {
		out.Lock()
		defer out.Unlock()
		// One write per line, so that a kill never leaves half a line
		// that looks whole.
		os.Stdout.WriteString(s)
	}
	say("ready\n")
	pid := os.Getpid()
	for w := range 8 {
		go func() {
			r := rand.New(rand.NewPCG(uint64(pid), uint64(w)))
			for i := 0; ; i++ {
				id := fmt.Sprintf("%d-%d-%d", pid, w, i)
				rec := id + "|" + strings.Repeat("p", r.IntN(3000))
				lsn, err := l.Append(context.Background(), []byte(rec))
				if err != nil {
					fmt.Fprintln(os.Stderr, "append:", err)
					os.Exit(1)
				}
				say(fmt.Sprintf("%d %s\n", lsn, id))
			}
		}()
	}
	select {}
}

// suicideFS kills the process right after the nth write or fsync of a
// segment file.
type suicideFS struct {
	OSFS
	op    string
	n     int64
	count atomic.Int64
	armed atomic.Bool
}

func (s *suicideFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := s.OSFS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &suicideFile{File: f, s: s}, nil
}

func (s *suicideFS) after(op string) {
	if s.armed.Load() && op == s.op && s.count.Add(1) == s.n {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
}

type suicideFile struct {
	File
	s *suicideFS
}

func (f *suicideFile) WriteAt(p []byte, off int64) (int, error) {
	n, err := f.File.WriteAt(p, off)
	f.s.after("write")
	return n, err
}

func (f *suicideFile) Sync() error {
	err := f.File.Sync()
	f.s.after("sync")
	return err
}

// runChild starts a child appending to dir and returns the records it
// acknowledged (LSN → id) once it is dead: killed by the parent after
// wait, or by itself (killAt).
func runChild(t *testing.T, dir, killAt string, wait time.Duration) map[uint64]string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir, killAtEnv+"="+killAt, "GORACE=atexit_sleep_ms=0")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[uint64]string{}
	lines := make(chan string)
	go func() {
		defer close(lines)
		r := bufio.NewReader(stdout)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return // a line cut short by the kill was never acknowledged to us
			}
			lines <- line
		}
	}()
	if first, ok := <-lines; !ok || first != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child did not start: %q\n%s", first, stderr.String())
	}
	if wait > 0 {
		time.AfterFunc(wait, func() { cmd.Process.Signal(syscall.SIGKILL) })
	}
	for line := range lines {
		var lsn uint64
		var id string
		if _, err := fmt.Sscanf(line, "%d %s", &lsn, &id); err != nil {
			t.Fatalf("child said %q", line)
		}
		if prev, dup := acked[lsn]; dup {
			t.Fatalf("child acknowledged LSN %d twice (%s, %s)", lsn, prev, id)
		}
		acked[lsn] = id
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, not by SIGKILL\n%s", err, stderr.String())
	}
	return acked
}

// checkAcked replays dir and checks that every acknowledged record is
// there, at its LSN, and no record is there twice.
func checkAcked(t *testing.T, dir string, acked map[uint64]string) int {
	t.Helper()
	l, err := Open(dir, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	seen := map[string]uint64{}
	n := 0
	err = l.Replay(func(lsn uint64, rec []byte) error {
		id, _, ok := strings.Cut(string(rec), "|")
		if !ok {
			return fmt.Errorf("LSN %d: record %.40q is not one the child wrote", lsn, rec)
		}
		if prev, dup := seen[id]; dup {
			return fmt.Errorf("record %s replayed twice, at %d and %d", id, prev, lsn)
		}
		seen[id] = lsn
		if want, ok := acked[lsn]; ok && want != id {
			return fmt.Errorf("LSN %d: acknowledged %s, replayed %s", lsn, want, id)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for lsn, id := range acked {
		if seen[id] != lsn {
			t.Fatalf("acknowledged record %s (LSN %d) not replayed", id, lsn)
		}
	}
	return n
}

func TestSIGKILLedProcessLosesNoAcknowledgedRecord(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	all := map[uint64]string{}
	start := time.Now()
	for round := range 20 {
		wait := time.Duration(10+rng.IntN(150)) * time.Millisecond
		acked := runChild(t, dir, "", wait)
		for lsn, id := range acked {
			if prev, ok := all[lsn]; ok {
				t.Fatalf("round %d: LSN %d acknowledged again (%s, earlier %s)", round, lsn, id, prev)
			}
			all[lsn] = id
		}
		n := checkAcked(t, dir, all)
		t.Logf("round %d: killed after %v, %d acknowledged, %d in the log", round, wait, len(acked), n)
		if time.Since(start) > 15*time.Second {
			t.Logf("stopping after %d rounds to keep the test short", round+1)
			break
		}
	}
}

func TestProcessKilledRightAfterAWriteOrAnFsync(t *testing.T) {
	// Kill points chosen exactly: after the write of a group and before
	// its fsync; after the fsync and before anyone is told.
	dir := t.TempDir()
	all := map[uint64]string{}
	for _, killAt := range []string{"write:3", "sync:3", "write:40", "sync:40", "write:1", "sync:2"} {
		acked := runChild(t, dir, killAt, 0)
		for lsn, id := range acked {
			all[lsn] = id
		}
		checkAcked(t, dir, all)
	}
	if len(all) == 0 {
		t.Fatal("nothing was ever acknowledged")
	}
}
