package wal

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/trekhq/trek/internal/fault"
)

// cutPoint is where Replay found the first torn or damaged data.
type cutPoint struct {
	index  int    // of the segment in the replayed list
	off    int64  // offset of the first bad byte; 0 when the header is bad
	size   int64  // of the segment file
	reason string // one of the cut* constants
	lsn    uint64 // LSN the first cut record would have had
}

// Replay calls fn for every intact record, in LSN order, and then prepares
// the log for appends. rec is only valid during the call; fn must copy
// what it keeps.
//
// Replay stops at the first record that is torn or damaged: a record
// header cut short, a length above MaxRecordBytes or past the end of the
// file, a checksum that does not match, or a record fn rejects with
// ErrCorrupt. It cuts the log there:
//
//   - in the last segment (what a crash leaves behind: a group commit that
//     was being written), the file is truncated after the last intact
//     record and the cut is logged as a warning;
//   - in an earlier segment, which was durable before the segments after
//     it were created, the damage is corruption of acknowledged data. The
//     cut is logged as an error; the damaged tail and the later segments
//     are not deleted but moved aside (renamed *.corrupt) for inspection,
//     and appends resume at an LSN above every record they held, so that
//     no number is ever reused.
//
// Appends then go after the last intact record (or, if Options.Checkpoint
// is higher, to a new segment above it). The last segment is rewritten in
// place and fsynced first: a process that was killed leaves written but
// unsynced records in the page cache, and Replay has just passed them to
// fn, so they must be made as durable as the ones appended after them (see
// redirty for why a plain fsync is not enough).
//
// If fn returns any other error, Replay stops, changes nothing on disk and
// returns that error; the log cannot then be used (Close it). A segment of
// an unknown format version fails Replay too, without cutting anything.
// Replay runs once.
func (l *Log) Replay(fn func(lsn uint64, rec []byte) error) error {
	l.mu.Lock()
	switch {
	case l.closed:
		l.mu.Unlock()
		return ErrClosed
	case l.replayed:
		l.mu.Unlock()
		return fault.New(fault.Internal, "write-ahead log replayed twice")
	}
	l.replayed = true
	l.mu.Unlock()

	segs, err := l.listSegments()
	if err != nil {
		return err
	}
	cut, err := l.scan(segs, fn)
	if err != nil {
		return err
	}
	var highWater uint64
	if cut != nil {
		segs, highWater, err = l.repair(segs, cut)
		if err != nil {
			return err
		}
	}
	if err := l.position(segs, highWater); err != nil {
		return err
	}
	l.mu.Lock()
	l.ready = true
	l.mu.Unlock()
	go l.run()
	return nil
}

// listSegments returns the segment files in LSN order.
func (l *Log) listSegments() ([]*segment, error) {
	ents, err := l.fs.ReadDir(l.dir)
	if err != nil {
		return nil, fmt.Errorf("replay wal %s: %w", l.dir, err)
	}
	var segs []*segment
	for _, e := range ents {
		first, ok := parseSegmentName(e.Name())
		if !ok || e.IsDir() {
			continue
		}
		segs = append(segs, &segment{name: e.Name(), first: first, end: first})
	}
	slices.SortFunc(segs, func(a, b *segment) int {
		switch {
		case a.first < b.first:
			return -1
		case a.first > b.first:
			return 1
		}
		return 0
	})
	return segs, nil
}

// scan reads every segment in order, calling fn, up to the first damage.
func (l *Log) scan(segs []*segment, fn func(lsn uint64, rec []byte) error) (*cutPoint, error) {
	var buf []byte
	var prevEnd uint64
	for i, s := range segs {
		p := filepath.Join(l.dir, s.name)
		f, err := l.fs.OpenFile(p, os.O_RDONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("replay wal: %w", err)
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("replay wal: stat %s: %w", p, err)
		}
		size := fi.Size()
		hb := make([]byte, headerSize)
		n, err := f.ReadAt(hb, 0)
		if err != nil && !errors.Is(err, io.EOF) {
			f.Close()
			return nil, fmt.Errorf("replay wal: read %s: %w", p, err)
		}
		h, herr := decodeHeader(hb[:n], p)
		if ve := (*versionError)(nil); errors.As(herr, &ve) {
			f.Close()
			return nil, fmt.Errorf("replay wal: %w", herr)
		}
		reason := ""
		switch {
		case herr != nil || h.first == 0 || h.first < h.prevEnd:
			reason = cutHeader
		case h.first != s.first:
			reason = cutNameLSN
		case h.first < prevEnd:
			reason = cutLSNOverlap
		case i > 0 && h.prevEnd != prevEnd:
			reason = cutGap
		}
		if reason != "" {
			f.Close()
			return &cutPoint{index: i, size: size, reason: reason, lsn: max(s.first, prevEnd)}, nil
		}
		res, err := scanSegment(f, size, h.first, &buf, fn)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("replay wal %s: %w", p, err)
		}
		s.end = res.end
		if res.reason != "" {
			return &cutPoint{index: i, off: res.good, size: size, reason: res.reason, lsn: res.end}, nil
		}
		prevEnd = res.end
	}
	return nil, nil
}

// repair cuts the log at cut and returns the segments that remain and the
// lowest LSN appends may use without reusing a number that damaged data
// may have had.
func (l *Log) repair(segs []*segment, cut *cutPoint) ([]*segment, uint64, error) {
	s := segs[cut.index]
	p := filepath.Join(l.dir, s.name)
	last := cut.index == len(segs)-1
	var highWater uint64

	switch {
	case last && cut.off == 0 && cut.size <= headerSize:
		// A crash while the segment was being created: its header was not
		// yet durable, so nothing was ever appended to it.
		l.log.Warn("write-ahead log: removing a segment whose creation a crash interrupted",
			"segment", p, "bytes", cut.size)
		if err := l.fs.Remove(p); err != nil {
			return nil, 0, fmt.Errorf("replay wal: remove %s: %w", p, err)
		}
		highWater = s.first
		segs = segs[:cut.index]

	case last && cut.off > 0:
		// The normal aftermath of a crash: the group commit being written
		// when it happened. None of it was acknowledged.
		l.log.Warn("write-ahead log: cutting torn tail",
			"segment", p, "offset", cut.off, "bytes_cut", cut.size-cut.off, "reason", cut.reason, "first_lsn_cut", cut.lsn)
		if err := l.cutFile(p, cut.off); err != nil {
			return nil, 0, err
		}
		segs = segs[:cut.index+1]

	default:
		// Damage in data that was durable: a sealed segment, or the header
		// of a segment that had records. Keep everything from the damage
		// on, out of the log's way, and number new records above all of
		// it. The order makes every step safe to interrupt: the new segment
		// is created first, above every LSN the damaged data may hold and
		// above every existing segment, so a crash at any later point
		// leaves a log whose next replay finds the same damage followed by
		// that segment and repeats the repair with a high-water mark at
		// least as high, instead of treating the damage as a torn tail and
		// reusing numbers.
		later := segs[cut.index+1:]
		l.log.Error("write-ahead log: corruption in durable data; the records after it are lost to replay and moved aside",
			"segment", p, "offset", cut.off, "reason", cut.reason, "first_lsn_cut", cut.lsn, "later_segments", len(later))
		aside := later
		if cut.off == 0 {
			aside = segs[cut.index:]
		}
		// Each segment set aside may have held records numbered from the
		// higher of its name and where the one before it ended; past all of
		// them, and past every name, so that the new segment's name is free.
		highWater = cut.lsn
		for _, t := range aside {
			highWater = max(highWater, t.first) + l.countIntact(t)
		}
		highWater = max(highWater, segs[len(segs)-1].first+1)
		// What the new segment follows once the damage is out of the way.
		var prevEnd uint64
		switch {
		case cut.off > 0:
			prevEnd = s.end
		case cut.index > 0:
			prevEnd = segs[cut.index-1].end
		}
		f, err := l.createSegment(header{first: highWater, prevEnd: prevEnd})
		if err != nil {
			return nil, 0, fmt.Errorf("replay wal: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, 0, fmt.Errorf("replay wal: %w", err)
		}
		fresh := &segment{name: segmentName(highWater), first: highWater, end: highWater}
		stamp := time.Now().UnixNano()
		if cut.off > 0 {
			if err := l.copyTailAside(s.name, cut.off, cut.size, stamp); err != nil {
				return nil, 0, err
			}
		}
		for _, t := range aside {
			if err := l.moveAside(t.name, stamp); err != nil {
				return nil, 0, err
			}
		}
		if cut.off > 0 {
			if err := l.cutFile(p, cut.off); err != nil {
				return nil, 0, err
			}
			segs = append(segs[:cut.index+1:cut.index+1], fresh)
		} else {
			segs = append(segs[:cut.index:cut.index], fresh)
		}
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return nil, 0, fmt.Errorf("replay wal: %w", err)
	}
	return segs, highWater, nil
}

// countIntact counts the intact records of a segment about to be moved
// aside, reading past its header even if that is damaged; 0 if it cannot
// be read.
func (l *Log) countIntact(s *segment) uint64 {
	p := filepath.Join(l.dir, s.name)
	f, err := l.fs.OpenFile(p, os.O_RDONLY, 0)
	if err != nil {
		return 0
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0
	}
	var buf []byte
	res, _ := scanSegment(f, fi.Size(), 0, &buf, nil)
	return res.end
}

func (l *Log) cutFile(p string, off int64) error {
	f, err := l.fs.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("replay wal: %w", err)
	}
	if err := l.truncateSync(f, p, off); err != nil {
		f.Close()
		return fmt.Errorf("replay wal: %w", err)
	}
	return f.Close()
}

func (l *Log) moveAside(name string, stamp int64) error {
	from := filepath.Join(l.dir, name)
	to := fmt.Sprintf("%s.%d.corrupt", from, stamp)
	if err := l.fs.Rename(from, to); err != nil {
		return fmt.Errorf("replay wal: move damaged segment aside: %w", err)
	}
	l.log.Error("write-ahead log: moved damaged segment aside", "from", from, "to", to)
	return nil
}

// copyTailAside saves bytes [off, size) of a segment about to be cut.
func (l *Log) copyTailAside(name string, off, size int64, stamp int64) error {
	from := filepath.Join(l.dir, name)
	to := fmt.Sprintf("%s.%d.tail-%d.corrupt", from, stamp, off)
	src, err := l.fs.OpenFile(from, os.O_RDONLY, 0)
	if err != nil {
		return fmt.Errorf("replay wal: %w", err)
	}
	defer src.Close()
	dst, err := l.fs.OpenFile(to, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("replay wal: %w", err)
	}
	buf := make([]byte, min(size-off, 1<<20))
	for pos := off; pos < size; {
		n, err := src.ReadAt(buf[:min(int64(len(buf)), size-pos)], pos)
		if n > 0 {
			if _, werr := dst.WriteAt(buf[:n], pos-off); werr != nil {
				dst.Close()
				return fmt.Errorf("replay wal: save damaged tail: %w", werr)
			}
			pos += int64(n)
		}
		if err != nil && !(errors.Is(err, io.EOF) && pos == size) {
			dst.Close()
			return fmt.Errorf("replay wal: save damaged tail: %w", err)
		}
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		return fmt.Errorf("replay wal: save damaged tail: %w", err)
	}
	if err := dst.Close(); err != nil {
		return fmt.Errorf("replay wal: save damaged tail: %w", err)
	}
	l.log.Error("write-ahead log: saved damaged tail", "segment", from, "offset", off, "to", to)
	return nil
}

// position makes the last segment the active one, durable, and starts a
// new segment when there is none or numbering must jump (highWater,
// Options.Checkpoint).
func (l *Log) position(segs []*segment, highWater uint64) error {
	next := uint64(1)
	if len(segs) > 0 {
		cur := segs[len(segs)-1]
		p := filepath.Join(l.dir, cur.name)
		f, err := l.fs.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("replay wal: %w", err)
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return fmt.Errorf("replay wal: stat %s: %w", p, err)
		}
		if err := l.redirty(f, fi.Size()); err != nil {
			f.Close()
			return fmt.Errorf("replay wal: %s: %w", p, err)
		}
		l.nSyncs.Add(1)
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("replay wal: sync %s: %w", p, err)
		}
		l.f, l.cur = f, cur
		l.size, l.synced = fi.Size(), fi.Size()
		next = cur.end
	}
	l.next, l.syncedNext = next, next
	want := max(next, highWater, l.opts.Checkpoint+1)
	if len(segs) == 0 || want > next {
		var prevEnd uint64
		if len(segs) > 0 {
			prevEnd = next
		}
		f, err := l.createSegment(header{first: want, prevEnd: prevEnd})
		if err != nil {
			if l.f != nil {
				l.f.Close()
				l.f = nil
			}
			return fmt.Errorf("replay wal: %w", err)
		}
		if l.f != nil {
			l.f.Close()
		}
		if want > next {
			l.log.Warn("write-ahead log: skipping LSNs so that none is reused", "from", next, "to", want)
		}
		l.cur = &segment{name: segmentName(want), first: want, end: want}
		segs = append(segs, l.cur)
		l.f = f
		l.size, l.synced = headerSize, headerSize
		l.next, l.syncedNext = want, want
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		l.f.Close()
		l.f = nil
		return fmt.Errorf("replay wal: %w", err)
	}
	l.mu.Lock()
	l.segs = segs
	l.mu.Unlock()
	return nil
}

// redirty writes the last segment's bytes over themselves before Replay
// fsyncs it. A process killed after an fsync failed, and before it could
// cut the failed records off, leaves them in the page cache marked clean
// though they never reached the disk: reads (this replay's among them)
// return them, and an fsync skips them. Writing them again makes them
// dirty, so the fsync that follows really stores what was replayed. Only
// the last segment can hold such bytes: every earlier one was sealed by
// a successful fsync that no failure preceded without a rewind.
func (l *Log) redirty(f File, size int64) error {
	buf := make([]byte, min(size, 1<<20))
	for off := int64(0); off < size; {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
		if n > 0 {
			if _, werr := f.WriteAt(buf[:n], off); werr != nil {
				return werr
			}
			off += int64(n)
		}
		if err != nil && !(errors.Is(err, io.EOF) && off == size) {
			return err
		}
	}
	return nil
}
