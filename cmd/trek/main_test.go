package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// trekBinary builds the real binary once for every test in the package.
func trekBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "trek-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "trek")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// TestServeShutsDownGracefullyOnSIGTERM builds the real binary, starts it,
// and checks that SIGTERM ends it cleanly with exit status 0.
func TestServeShutsDownGracefullyOnSIGTERM(t *testing.T) {
	bin := trekBinary(t)
	for _, sig := range []os.Signal{syscall.SIGTERM, os.Interrupt} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, "serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--admin-password", "graceful-pass-1")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			ready := make(chan bool, 1)
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					if strings.Contains(sc.Text(), "trek listening on") {
						ready <- true
					}
				}
			}()
			select {
			case <-ready:
			case <-time.After(90 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("not listening:\n%s", stderr.String())
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("exit: %v\n%s", err, stderr.String())
				}
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				t.Fatal("did not stop")
			}
			if !strings.Contains(stderr.String(), "shutting down") {
				t.Errorf("no shutdown log:\n%s", stderr.String())
			}
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	bin := trekBinary(t)
	out, err := exec.Command(bin, "--help").Output()
	if err != nil || !strings.Contains(string(out), "serve") {
		t.Errorf("help: %v %s", err, out)
	}
	if err := exec.Command(bin).Run(); err == nil {
		t.Error("no arguments should exit non-zero")
	} else if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Errorf("no arguments: %v", err)
	}
}
