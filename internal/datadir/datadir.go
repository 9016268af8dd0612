// Package datadir owns trek's data directory: the one place on disk that
// holds the metadata database, the write-ahead log and the event store.
// Only one trek process may use a data directory at a time, because the
// write-ahead log and the event store have a single writer by design; the
// directory's lock file enforces that. The package also has the atomic
// file replacement that the stores use for small files that must never be
// seen half-written.
package datadir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// LockFile is the name of the lock file inside a data directory.
const LockFile = "trek.lock"

// Dir is an open, locked data directory.
type Dir struct {
	path string
	lock *os.File
}

// Open creates dir (mode 0700) if it is missing and locks it for this
// process. It fails, naming the other process, when another trek process
// (or another Open in this one) holds the lock.
//
// The lock is an flock(2) on dir/trek.lock. The kernel releases it when
// the holder exits, however it exits, so a crash never leaves a stale lock
// behind and the lock file itself can stay on disk.
func Open(dir string) (*Dir, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	// 0700: the directory holds password hashes and every customer's
	// events; no other local user has any business in it.
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(abs, LockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open data directory lock: %w", err)
	}
	// flock, not fcntl locks: fcntl locks belong to the process, so a
	// second Open in the same process would silently succeed and closing
	// either descriptor would drop both.
	if err := flock(f); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("data directory %s is in use by another trek process (pid %s)", abs, holder(abs))
		}
		return nil, fmt.Errorf("lock data directory %s: %w", abs, err)
	}
	// The pid is only for the message above; the lock is what counts.
	if err := writePID(f); err != nil {
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
		return nil, fmt.Errorf("lock data directory %s: record pid: %w", abs, err)
	}
	return &Dir{path: abs, lock: f}, nil
}

func flock(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err != unix.EINTR {
			return err
		}
	}
}

func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}

// holder reads the pid the lock's holder recorded. It may be empty for a
// moment, between the holder taking the lock and writing its pid.
func holder(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, LockFile))
	if err != nil {
		return "unknown"
	}
	pid := strings.TrimSpace(string(b))
	if _, err := strconv.Atoi(pid); err != nil {
		return "unknown"
	}
	return pid
}

// Close releases the lock. The lock file stays: deleting it would let a
// process that has just opened the old file and one that creates a new
// one both believe they hold the lock.
func (d *Dir) Close() error {
	if d.lock == nil {
		return nil
	}
	f := d.lock
	d.lock = nil
	// Closing the descriptor would release the flock only if no duplicate
	// of it were open anywhere; an explicit unlock releases it regardless.
	uerr := unix.Flock(int(f.Fd()), unix.LOCK_UN)
	if err := errors.Join(uerr, f.Close()); err != nil {
		return fmt.Errorf("unlock data directory %s: %w", d.path, err)
	}
	return nil
}

// Root is the data directory's absolute path.
func (d *Dir) Root() string { return d.path }

// Path returns the path of name inside the data directory.
func (d *Dir) Path(name string) string { return filepath.Join(d.path, name) }

// MetaPath is where the SQLite metadata database lives in data directory
// dir.
func MetaPath(dir string) string { return filepath.Join(dir, "trek.db") }

// WriteFileAtomic replaces path with data so that, even across a crash or
// a power cut, path holds either its old content or all of data, never a
// mix or nothing. perm is applied as given, without the umask, because
// callers pass the mode a data file must have.
//
// The data goes to a temporary file in the same directory (a rename is
// atomic only within one file system), which is synced before the rename
// so that the name never points at unwritten blocks; the directory is
// synced after it so that the rename itself survives a power cut.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("write %s: %w", path, err)
		}
	}()
	if err := tmp.Chmod(perm); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return d.Close()
}

// SyncDir fsyncs a directory, making the renames and creations in it
// durable.
func SyncDir(dir string) error { return syncDir(dir) }
