package importer_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/importer"
)

func gzipped(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeGzip(t testing.TB, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.json") // the name says nothing of gzip on purpose
	if err := os.WriteFile(path, gzipped(t, data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestOpen checks that gzip is recognised by its content, not its name,
// and that plain files pass through.
func TestOpen(t *testing.T) {
	data := []byte(strings.Repeat("some event data\n", 5000))
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"plain.gz", data},
		{"zipped.txt", gzipped(t, data)},
		{"two members", append(gzipped(t, data[:100]), gzipped(t, data[100:])...)},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, tc.body, 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := importer.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(f)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s: read %d bytes, %v", tc.name, len(got), err)
		}
		done, total := f.(importer.Positioner).Position()
		if done != int64(len(tc.body)) || total != int64(len(tc.body)) {
			t.Errorf("%s: position %d of %d, want %d", tc.name, done, total, len(tc.body))
		}
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	}
	for _, body := range []string{"", "\x1f"} {
		f, err := importer.NewReader(strings.NewReader(body), importer.DefaultGzipLimits)
		if err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		if got, err := io.ReadAll(f); err != nil || string(got) != body {
			t.Errorf("%q: got %q, %v", body, got, err)
		}
	}
	if _, err := importer.Open(filepath.Join(dir, "missing")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestGzipLimits checks the gzip-bomb guard: both caps answer TooLarge,
// and real data passes the defaults.
func TestGzipLimits(t *testing.T) {
	bomb := gzipped(t, make([]byte, 8<<20)) // 8 MiB of zeros: ~1000:1
	for _, tc := range []struct {
		name string
		lim  importer.GzipLimits
		want string
	}{
		{"ratio", importer.DefaultGzipLimits, "inflates more than 250 times"},
		{"size", importer.GzipLimits{MaxInflated: 2 << 20}, "inflates to more than 2097152 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := importer.NewReader(bytes.NewReader(bomb), tc.lim)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			n, err := io.Copy(io.Discard, f)
			if fault.CodeOf(err) != fault.TooLarge || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("after %d bytes: %v", n, err)
			}
			if n > 3<<20 {
				t.Errorf("inflated %d bytes before stopping", n)
			}
		})
	}
	f, err := importer.NewReader(bytes.NewReader(bomb), importer.GzipLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := io.Copy(io.Discard, f); err != nil || n != 8<<20 {
		t.Errorf("no limits: %d bytes, %v", n, err)
	}
	f.Close()
}

// TestGzipCorrupt checks that damaged gzip input is an Invalid error, not
// a short read that looks like the end of the file.
func TestGzipCorrupt(t *testing.T) {
	good := gzipped(t, []byte(strings.Repeat("event line\n", 20000)))
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0xff
	badCRC := bytes.Clone(good)
	badCRC[len(badCRC)-6] ^= 0xff
	for _, tc := range []struct {
		name string
		body []byte
		want string
	}{
		{"truncated", good[:len(good)/2], "gzip input ends early"},
		{"flipped byte", flipped, "corrupt gzip input"},
		{"bad checksum", badCRC, "corrupt gzip input"},
		{"bad header", []byte("\x1f\x8b\x09garbage"), "corrupt gzip input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := importer.NewReader(bytes.NewReader(tc.body), importer.DefaultGzipLimits)
			if err == nil {
				_, err = io.Copy(io.Discard, f)
				f.Close()
			}
			if fault.CodeOf(err) != fault.Invalid || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an Invalid error %q", err, tc.want)
			}
		})
	}
}

// TestOpenCloseEarly checks that closing a gzipped file before its end
// stops the goroutine that inflates ahead (the race detector and the
// leak of a blocked goroutine would show it).
func TestOpenCloseEarly(t *testing.T) {
	path := writeGzip(t, bytes.Repeat([]byte("0123456789abcdef"), 1<<17))
	for range 10 {
		f, err := importer.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1000)
		if _, err := io.ReadFull(f, buf); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
