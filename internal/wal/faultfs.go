package wal

import (
	"bytes"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// FaultFS is an in-memory FS for tests: it fails chosen calls, runs out of
// space, and crashes. It is exported so that the packages built on the
// log (the store, the server) can test how failures reach their callers.
//
// Its crash model is "lost unsynced writes", with the kernel behaviours
// that make write-ahead logs hard:
//
//   - File data becomes durable only when the file is fsynced, and a
//     directory entry (create, remove, rename) only when its directory is.
//     Crash returns the file system a machine would find after a power
//     cut: durable data and names only (optionally with a torn, partial
//     prefix of the unsynced data of each file: see Crash).
//   - A failed fsync leaves the data it failed to write marked clean in
//     the cache, as Linux does: the process still reads it back, but no
//     later fsync writes it, so a log that retries an fsync and believes
//     the second answer loses it at the next crash. Writing the bytes
//     again makes them dirty again.
//
// Directories exist as soon as MkdirAll creates them.
type FaultFS struct {
	mu       sync.Mutex
	names    map[string]*inode // the namespace the process sees
	durable  map[string]*inode // the namespace a crash leaves
	dirs     map[string]bool
	faults   []*faultRule
	capacity int64 // 0: unlimited
	calls    map[Op]int
	crashed  bool
}

type inode struct {
	data    []byte // what reads see
	durable []byte // what a crash leaves
	// lost are byte ranges of data that a failed fsync marked clean
	// without writing: later fsyncs keep the durable bytes there.
	lost []span
	// dirty is the lowest offset written or truncated since the last
	// persist: durable[:dirty] is still data[:dirty].
	dirty int64
}

type span struct{ from, to int64 }

// Op names a file-system call a FaultFS can fail.
type Op string

// The calls a FaultFS counts and can fail.
const (
	OpOpen     Op = "open"
	OpRead     Op = "read"
	OpWrite    Op = "write"
	OpSync     Op = "sync" // fsync of a file
	OpTruncate Op = "truncate"
	OpClose    Op = "close"
	OpRemove   Op = "remove"
	OpRename   Op = "rename"
	OpSyncDir  Op = "syncdir"
)

// Fault is a planned failure.
type Fault struct {
	Op Op
	// Path, if set, limits the fault to files whose path contains it.
	Path string
	// After lets this many matching calls succeed first.
	After int
	// Times is how many calls fail: 0 means one, negative means every
	// matching call from then on.
	Times int
	// Err is the error, wrapped in an *fs.PathError (default EIO).
	Err error
	// Partial (OpWrite): write the first half of the data, then fail, as a
	// write that runs out of space does.
	Partial bool
	// Persist (OpSync): make the data durable anyway before failing, as an
	// fsync that wrote everything but could not confirm it. The log must
	// cope with records that it reported failed being on disk.
	Persist bool
}

type faultRule struct {
	Fault
	seen, failed int
}

// NewFaultFS returns an empty FaultFS.
func NewFaultFS() *FaultFS {
	return &FaultFS{
		names:   map[string]*inode{},
		durable: map[string]*inode{},
		dirs:    map[string]bool{"/": true, ".": true},
		calls:   map[Op]int{},
	}
}

var _ FS = (*FaultFS)(nil)

// Inject plans a failure.
func (m *FaultFS) Inject(f Fault) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.faults = append(m.faults, &faultRule{Fault: f})
}

// ClearFaults drops every planned failure.
func (m *FaultFS) ClearFaults() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.faults = nil
}

// SetCapacity limits the bytes all files together may hold (0: no limit).
// A write past it writes what fits and fails with ENOSPC.
func (m *FaultFS) SetCapacity(bytes int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.capacity = bytes
}

// Calls says how many calls of kind op were made, failed ones included.
func (m *FaultFS) Calls(op Op) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls[op]
}

// ReadFile returns a copy of a file's current content.
func (m *FaultFS) ReadFile(name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ino, ok := m.names[filepath.Clean(name)]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return bytes.Clone(ino.data), nil
}

// WriteFile replaces (or creates) a file, durably, as a test that damages
// or plants files on disk wants.
func (m *FaultFS) WriteFile(name string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	name = filepath.Clean(name)
	if !m.dirs[filepath.Dir(name)] {
		return &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	ino := &inode{data: bytes.Clone(data), durable: bytes.Clone(data), dirty: int64(len(data))}
	m.names[name] = ino
	m.durable[name] = ino
	return nil
}

// Names lists the files in dir, sorted.
func (m *FaultFS) Names(dir string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir = filepath.Clean(dir)
	var out []string
	for n := range m.names {
		if filepath.Dir(n) == dir {
			out = append(out, filepath.Base(n))
		}
	}
	slices.Sort(out)
	return out
}

// Crash returns the file system as a power cut would leave it, and makes
// this one fail every call from now on, as if the machine had stopped:
// the process that was using it is gone. Planned faults and the capacity
// limit do not carry over.
//
// With torn nil, each file holds exactly its durable data. Otherwise torn
// decides, for each file whose unsynced data extends its durable data,
// how much of that extension made it to disk (any prefix, possibly none)
// and whether a stretch of it reads back as zeros, as when the file's size
// was updated but not all of its blocks were written.
func (m *FaultFS) Crash(torn *rand.Rand) *FaultFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.crashed = true
	out := NewFaultFS()
	maps.Copy(out.dirs, m.dirs)
	fresh := map[*inode]*inode{}
	names := make([]string, 0, len(m.durable))
	for n := range m.durable {
		names = append(names, n)
	}
	slices.Sort(names) // deterministic use of torn
	for _, n := range names {
		old := m.durable[n]
		ino, ok := fresh[old]
		if !ok {
			data := bytes.Clone(old.durable)
			// Bytes a failed fsync marked clean never reach the disk, so
			// a file with such bytes gets no torn extension.
			if torn != nil && len(old.lost) == 0 && len(old.data) > len(old.durable) && bytes.HasPrefix(old.data, old.durable) {
				extra := old.data[len(old.durable):]
				k := torn.IntN(len(extra) + 1)
				kept := bytes.Clone(extra[:k])
				if k > 0 && torn.IntN(4) == 0 {
					from := torn.IntN(k)
					to := from + torn.IntN(k-from) + 1
					clear(kept[from:to])
				}
				data = append(data, kept...)
			}
			ino = &inode{data: data, durable: bytes.Clone(data), dirty: int64(len(data))}
			fresh[old] = ino
		}
		out.names[n] = ino
		out.durable[n] = ino
	}
	return out
}

// check counts a call and returns the planned failure for it, if any.
// m.mu is held.
func (m *FaultFS) check(op Op, path string) (*faultRule, error) {
	m.calls[op]++
	if m.crashed {
		return nil, &fs.PathError{Op: string(op), Path: path, Err: syscall.EIO}
	}
	for _, r := range m.faults {
		if r.Op != op || (r.Path != "" && !strings.Contains(path, r.Path)) {
			continue
		}
		r.seen++
		if r.seen <= r.After {
			continue
		}
		if r.Times >= 0 && r.failed >= max(r.Times, 1) {
			continue
		}
		r.failed++
		err := r.Err
		if err == nil {
			err = syscall.EIO
		}
		return r, &fs.PathError{Op: string(op), Path: path, Err: err}
	}
	return nil, nil
}

// OpenFile supports the flags the log uses: O_RDONLY, O_RDWR, O_CREATE,
// O_EXCL and O_TRUNC.
func (m *FaultFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	name = filepath.Clean(name)
	if _, err := m.check(OpOpen, name); err != nil {
		return nil, err
	}
	ino, ok := m.names[name]
	switch {
	case !ok && flag&os.O_CREATE == 0:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	case ok && flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrExist}
	case !ok:
		if !m.dirs[filepath.Dir(name)] {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		ino = &inode{}
		m.names[name] = ino
	}
	if flag&os.O_TRUNC != 0 {
		ino.truncate(0)
	}
	return &faultFile{fs: m, name: name, ino: ino, write: flag&(os.O_RDWR|os.O_WRONLY) != 0}, nil
}

// Remove removes a file.
func (m *FaultFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	name = filepath.Clean(name)
	if _, err := m.check(OpRemove, name); err != nil {
		return err
	}
	if _, ok := m.names[name]; !ok {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	delete(m.names, name)
	return nil
}

// Rename renames a file, replacing the target.
func (m *FaultFS) Rename(oldname, newname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	oldname, newname = filepath.Clean(oldname), filepath.Clean(newname)
	if _, err := m.check(OpRename, oldname); err != nil {
		return err
	}
	ino, ok := m.names[oldname]
	if !ok {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: fs.ErrNotExist}
	}
	if !m.dirs[filepath.Dir(newname)] {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: fs.ErrNotExist}
	}
	delete(m.names, oldname)
	m.names[newname] = ino
	return nil
}

// ReadDir lists the files and directories directly in name.
func (m *FaultFS) ReadDir(name string) ([]fs.DirEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	name = filepath.Clean(name)
	if _, err := m.check(OpRead, name); err != nil {
		return nil, err
	}
	if !m.dirs[name] {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	var out []fs.DirEntry
	for n, ino := range m.names {
		if filepath.Dir(n) == name {
			out = append(out, fs.FileInfoToDirEntry(fileInfo{name: filepath.Base(n), size: int64(len(ino.data))}))
		}
	}
	for d := range m.dirs {
		if d != name && filepath.Dir(d) == name {
			out = append(out, fs.FileInfoToDirEntry(fileInfo{name: filepath.Base(d), dir: true}))
		}
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// MkdirAll creates a directory and its parents.
func (m *FaultFS) MkdirAll(name string, perm fs.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.crashed {
		return &fs.PathError{Op: "mkdir", Path: name, Err: syscall.EIO}
	}
	for d := filepath.Clean(name); !m.dirs[d]; d = filepath.Dir(d) {
		m.dirs[d] = true
	}
	return nil
}

// SyncDir makes the names in a directory durable.
func (m *FaultFS) SyncDir(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	name = filepath.Clean(name)
	if _, err := m.check(OpSyncDir, name); err != nil {
		return err
	}
	for n := range m.durable {
		if filepath.Dir(n) == name {
			delete(m.durable, n)
		}
	}
	for n, ino := range m.names {
		if filepath.Dir(n) == name {
			m.durable[n] = ino
		}
	}
	return nil
}

// used is the space all files take. m.mu is held.
func (m *FaultFS) used() int64 {
	var n int64
	for _, ino := range m.names {
		n += int64(len(ino.data))
	}
	return n
}

type faultFile struct {
	fs     *FaultFS
	name   string
	ino    *inode
	write  bool
	closed bool
}

func (f *faultFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return 0, fs.ErrClosed
	}
	if _, err := f.fs.check(OpRead, f.name); err != nil {
		return 0, err
	}
	if off >= int64(len(f.ino.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.ino.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *faultFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return 0, fs.ErrClosed
	}
	if !f.write {
		return 0, &fs.PathError{Op: "write", Path: f.name, Err: syscall.EBADF}
	}
	rule, err := f.fs.check(OpWrite, f.name)
	if err != nil && (rule == nil || !rule.Partial) {
		return 0, err
	}
	n := len(p)
	if rule != nil {
		n = len(p) / 2
	}
	if c := f.fs.capacity; c > 0 {
		grow := max(off+int64(n)-int64(len(f.ino.data)), 0)
		if avail := c - f.fs.used(); grow > avail {
			n = int(max(int64(len(f.ino.data))+max(avail, 0)-off, 0))
			err = &fs.PathError{Op: "write", Path: f.name, Err: syscall.ENOSPC}
		}
	}
	f.ino.write(p[:n], off)
	return n, err
}

func (f *faultFile) Sync() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return fs.ErrClosed
	}
	rule, err := f.fs.check(OpSync, f.name)
	ino := f.ino
	if err != nil {
		if rule != nil && rule.Persist {
			ino.persist()
		} else if n := int64(len(ino.data)); n > int64(len(ino.durable)) {
			// What was not durable is now clean but unwritten.
			ino.lost = append(ino.lost, span{int64(len(ino.durable)), n})
		}
		return err
	}
	ino.persist()
	return nil
}

func (f *faultFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return fs.ErrClosed
	}
	if _, err := f.fs.check(OpTruncate, f.name); err != nil {
		return err
	}
	f.ino.truncate(size)
	return nil
}

func (f *faultFile) Stat() (fs.FileInfo, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return nil, fs.ErrClosed
	}
	return fileInfo{name: filepath.Base(f.name), size: int64(len(f.ino.data))}, nil
}

func (f *faultFile) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return fs.ErrClosed
	}
	f.closed = true
	_, err := f.fs.check(OpClose, f.name)
	return err
}

func (ino *inode) write(p []byte, off int64) {
	if end := off + int64(len(p)); end > int64(len(ino.data)) {
		ino.data = append(ino.data, make([]byte, end-int64(len(ino.data)))...)
	}
	copy(ino.data[off:], p)
	ino.dirty = min(ino.dirty, off)
	ino.lost = cutSpans(ino.lost, off, off+int64(len(p)))
}

func (ino *inode) truncate(size int64) {
	if size < int64(len(ino.data)) {
		ino.data = ino.data[:size:size]
	} else {
		ino.data = append(ino.data, make([]byte, size-int64(len(ino.data)))...)
	}
	ino.dirty = min(ino.dirty, size)
	ino.lost = cutSpans(ino.lost, size, 1<<62)
}

// persist is a successful fsync: the data becomes durable, except for
// ranges a failed fsync marked clean, which keep what the disk had there
// (zeros, if the disk had nothing).
func (ino *inode) persist() {
	if len(ino.lost) == 0 {
		// Only what changed since the last persist is copied, or a test
		// that fsyncs a growing file a thousand times copies it a thousand
		// times. durable never shares memory with data.
		from := min(ino.dirty, int64(len(ino.durable)), int64(len(ino.data)))
		ino.durable = append(ino.durable[:from], ino.data[from:]...)
		ino.dirty = int64(len(ino.data))
		return
	}
	next := bytes.Clone(ino.data)
	for _, s := range ino.lost {
		for i := s.from; i < s.to && i < int64(len(next)); i++ {
			if i < int64(len(ino.durable)) {
				next[i] = ino.durable[i]
			} else {
				next[i] = 0
			}
		}
	}
	ino.durable = next
	ino.dirty = int64(len(ino.data))
}

// cutSpans removes [from, to) from the spans.
func cutSpans(spans []span, from, to int64) []span {
	var out []span
	for _, s := range spans {
		if s.to <= from || s.from >= to {
			out = append(out, s)
			continue
		}
		if s.from < from {
			out = append(out, span{s.from, from})
		}
		if s.to > to {
			out = append(out, span{to, s.to})
		}
	}
	return out
}

type fileInfo struct {
	name string
	size int64
	dir  bool
}

func (fi fileInfo) Name() string { return fi.name }
func (fi fileInfo) Size() int64  { return fi.size }
func (fi fileInfo) Mode() fs.FileMode {
	if fi.dir {
		return fs.ModeDir | 0o700
	}
	return 0o600
}
func (fi fileInfo) ModTime() time.Time { return time.Time{} }
func (fi fileInfo) IsDir() bool        { return fi.dir }
func (fi fileInfo) Sys() any           { return nil }
