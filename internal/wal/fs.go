package wal

import (
	"fmt"
	"io/fs"
	"os"
)

// FS is the file system the log works on: the real one (OSFS) in
// production, and FaultFS in tests that need to fail a chosen write or
// fsync, fill the disk, or crash the machine. It has exactly the calls the
// log makes, so that a fake has nothing to leave out.
type FS interface {
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	Remove(name string) error
	Rename(oldname, newname string) error
	ReadDir(name string) ([]fs.DirEntry, error)
	MkdirAll(name string, perm fs.FileMode) error
	// SyncDir makes the creations, removals and renames done so far in
	// directory name survive a crash. Syncing a file does not do that.
	SyncDir(name string) error
}

// File is an open segment file. The log writes with WriteAt at offsets it
// tracks itself, never through a file position, so that after a failed or
// short write it knows exactly which bytes it asked for.
type File interface {
	ReadAt(p []byte, off int64) (int, error)
	WriteAt(p []byte, off int64) (int, error)
	Sync() error
	Truncate(size int64) error
	Stat() (fs.FileInfo, error)
	Close() error
}

// OSFS is the operating system's file system.
type OSFS struct{}

var _ FS = OSFS{}

// OpenFile opens name with os.OpenFile.
func (OSFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		// A nil *os.File in a File interface would not compare equal to nil.
		return nil, err
	}
	return f, nil
}

// Remove removes name.
func (OSFS) Remove(name string) error { return os.Remove(name) }

// Rename renames oldname to newname, replacing newname if it exists.
func (OSFS) Rename(oldname, newname string) error { return os.Rename(oldname, newname) }

// ReadDir lists directory name sorted by file name.
func (OSFS) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }

// MkdirAll creates name and any missing parents.
func (OSFS) MkdirAll(name string, perm fs.FileMode) error { return os.MkdirAll(name, perm) }

// SyncDir fsyncs directory name.
func (OSFS) SyncDir(name string) error {
	d, err := os.Open(name)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return fmt.Errorf("sync directory %s: %w", name, err)
	}
	return d.Close()
}
