package datadir_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/trekhq/trek/internal/datadir"
)

// holdEnv makes the test binary, run as a child, hold a data directory's
// lock for the tests that need a second process: it opens the directory
// named by the variable, says "locked" on stdout, and keeps the lock until
// its stdin closes or it is killed.
const holdEnv = "TREK_DATADIR_TEST_HOLD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(holdEnv); dir != "" {
		d, err := datadir.Open(dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Println("locked")
		io.Copy(io.Discard, os.Stdin)
		if err := d.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// holder starts a child process holding dir's lock and returns it with
// the pipe whose closing lets it release the lock and exit.
func holder(t *testing.T, dir string) (*exec.Cmd, io.WriteCloser) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// atexit_sleep_ms: under -race a child would otherwise linger a second
	// after exiting.
	cmd.Env = append(os.Environ(), holdEnv+"="+dir, "GORACE=atexit_sleep_ms=0")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("child holding the lock said %q, %v", line, err)
	}
	return cmd, stdin
}

func inUse(dir string, pid int) string {
	return fmt.Sprintf("data directory %s is in use by another trek process (pid %d)", dir, pid)
}

func TestOpenCreatesPrivateDirAndRecordsPID(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "trek")
	d, err := datadir.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data directory mode %v, want a 0700 directory", fi.Mode())
	}
	b, err := os.ReadFile(filepath.Join(dir, datadir.LockFile))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(b)); got != strconv.Itoa(os.Getpid()) {
		t.Fatalf("lock file holds %q, want this pid %d", got, os.Getpid())
	}
	if got, want := d.Path("trek.db"), filepath.Join(dir, "trek.db"); got != want {
		t.Fatalf("Path = %s, want %s", got, want)
	}
	if got := datadir.MetaPath(dir); got != filepath.Join(dir, "trek.db") {
		t.Fatalf("MetaPath = %s", got)
	}
}

func TestSecondOpenFailsUntilClose(t *testing.T) {
	dir := t.TempDir()
	d, err := datadir.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = datadir.Open(dir)
	if err == nil || err.Error() != inUse(dir, os.Getpid()) {
		t.Fatalf("second Open: %v\nwant: %s", err, inUse(dir, os.Getpid()))
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	d, err = datadir.Open(dir)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	d.Close()
}

func TestLockedByAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	cmd, release := holder(t, dir)
	_, err := datadir.Open(dir)
	if err == nil || err.Error() != inUse(dir, cmd.Process.Pid) {
		t.Fatalf("Open while another process holds the lock: %v\nwant: %s", err, inUse(dir, cmd.Process.Pid))
	}
	release.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("lock holder: %v", err)
	}
	d, err := datadir.Open(dir)
	if err != nil {
		t.Fatalf("Open after the other process let go: %v", err)
	}
	d.Close()
}

func TestLockOfKilledProcessIsFree(t *testing.T) {
	dir := t.TempDir()
	cmd, _ := holder(t, dir)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	d, err := datadir.Open(dir)
	if err != nil {
		t.Fatalf("Open after the holder was killed: %v", err)
	}
	d.Close()
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	for _, content := range []string{`{"v":1}`, `{"v":2, "longer": true}`, ``} {
		if err := datadir.WriteFileAtomic(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != content {
			t.Fatalf("file holds %q, want %q", got, content)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].Name() != "state.json" {
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Fatalf("directory holds %v, want only state.json", names)
		}
	}
	if err := datadir.WriteFileAtomic(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v, want 0644 as asked", fi.Mode().Perm())
	}
}

func TestWriteFileAtomicFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	// A directory in the way makes the rename fail after the temporary
	// file was written.
	path := filepath.Join(dir, "occupied")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "keep"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := datadir.WriteFileAtomic(path, []byte("data"), 0o600); err == nil {
		t.Fatal("WriteFileAtomic over a non-empty directory succeeded")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "occupied" {
		t.Fatalf("a failed write left %v behind", entries)
	}
	if err := datadir.WriteFileAtomic(filepath.Join(dir, "missing", "f"), []byte("x"), 0o600); err == nil {
		t.Fatal("WriteFileAtomic into a missing directory succeeded")
	}
}
