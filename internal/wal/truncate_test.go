package wal

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// stallRemoveFS holds every Remove until release is closed, as a slow
// disk deleting large segment files does.
type stallRemoveFS struct {
	*FaultFS
	entered chan struct{}
	release chan struct{}
}

func (s *stallRemoveFS) Remove(name string) error {
	select {
	case s.entered <- struct{}{}:
	default:
	}
	<-s.release
	return s.FaultFS.Remove(name)
}

func TestAppendsAreAnsweredWhileTruncationDeletesSegments(t *testing.T) {
	fsys := &stallRemoveFS{FaultFS: NewFaultFS(), entered: make(chan struct{}, 1), release: make(chan struct{})}
	l, _ := open(t, fsys, Options{SegmentBytes: 200})
	var last uint64
	for i := range 20 {
		last = mustAppend(t, l, fmt.Sprintf("record-%02d-%s", i, strings.Repeat("p", 30)))
	}
	truncated := make(chan error, 1)
	go func() { truncated <- l.TruncateBefore(last) }()
	<-fsys.entered

	// The truncation is stuck deleting a file; an append must not wait
	// for it.
	appended := make(chan error, 1)
	go func() {
		_, err := l.Append(context.Background(), []byte("during the truncation"))
		appended <- err
	}()
	select {
	case err := <-appended:
		if err != nil {
			t.Errorf("append while a truncation deletes segments: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("an append waited more than 5 s for a truncation deleting segments")
	}
	close(fsys.release)
	if err := <-truncated; err != nil {
		t.Fatal(err)
	}
}

func TestSegmentsThatFailedToBeRemovedAreRemovedByTheNextTruncation(t *testing.T) {
	fsys := NewFaultFS()
	opts := Options{SegmentBytes: 200}
	l, _ := open(t, fsys, opts)
	var last uint64
	for i := range 30 {
		last = mustAppend(t, l, fmt.Sprintf("record-%02d-%s", i, strings.Repeat("p", 30)))
	}
	before := len(fsys.Names(dir))
	fsys.Inject(Fault{Op: OpRemove, After: 1, Times: 1, Err: errors.New("remove failed")})
	if err := l.TruncateBefore(last + 1); err == nil {
		t.Fatal("a truncation whose second remove failed answered no error")
	}
	if n := len(fsys.Names(dir)); n != before-1 {
		t.Fatalf("after the failed truncation %d of %d segments remain, want all but the first", n, before)
	}
	if err := l.TruncateBefore(last + 1); err != nil {
		t.Fatal(err)
	}
	if n := len(fsys.Names(dir)); n != 1 {
		t.Fatalf("the next truncation left %d segments, want only the active one", n)
	}
	// What is left is the active segment: the last records only.
	_, got := reopen(t, l, fsys, opts)
	if len(got) == 0 || len(got) >= 30 || got[len(got)-1].lsn != last {
		t.Fatalf("after the second truncation replay gives %d records (last %v), want the active segment's few", len(got), got)
	}
}

// orderedRemoveFS holds the first Remove until release is closed and
// records the order of all of them.
type orderedRemoveFS struct {
	*FaultFS
	mu      sync.Mutex
	removed []string
	entered chan struct{}
	release chan struct{}
}

func (s *orderedRemoveFS) Remove(name string) error {
	s.mu.Lock()
	first := len(s.removed) == 0
	s.removed = append(s.removed, filepath.Base(name))
	s.mu.Unlock()
	if first {
		s.entered <- struct{}{}
		<-s.release
	}
	return s.FaultFS.Remove(name)
}

// Two truncations at once remove segments oldest first between them: a
// later segment removed while an earlier one is still on disk would
// leave a hole that replay stops at, should the process die then.
func TestConcurrentTruncationsRemoveSegmentsOldestFirst(t *testing.T) {
	fsys := &orderedRemoveFS{FaultFS: NewFaultFS(), entered: make(chan struct{}), release: make(chan struct{})}
	l, _ := open(t, fsys, Options{SegmentBytes: 200})
	var lsns []uint64
	for i := range 40 {
		lsns = append(lsns, mustAppend(t, l, fmt.Sprintf("record-%02d-%s", i, strings.Repeat("p", 30))))
	}
	first := make(chan error, 1)
	go func() { first <- l.TruncateBefore(lsns[10]) }()
	<-fsys.entered
	second := make(chan error, 1)
	go func() { second <- l.TruncateBefore(lsns[39]) }()
	// Give the second call time to remove what it would.
	time.Sleep(100 * time.Millisecond)
	close(fsys.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	if len(fsys.removed) < 3 || !slices.IsSorted(fsys.removed) {
		t.Fatalf("segments removed in the order %v, want oldest first", fsys.removed)
	}
}
