package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/trekhq/trek/internal/datadir"
)

// manifestName is the file that says which column files hold the store's
// events and how much of the log they cover. It is replaced atomically,
// so it always describes one consistent state: the column files it lists
// plus the log records from WALLSN on are every event, each exactly once.
const manifestName = "MANIFEST"

// manifestFormat is the manifest's version; see docs/storage.md.
const manifestFormat = 1

type manifest struct {
	Format int `json:"format"`
	// WALLSN: every log record with a smaller LSN is in the column files
	// (or was erased); replay starts here.
	WALLSN uint64 `json:"walLSN"`
	// NextSeq is larger than the arrival sequence of every event in the
	// column files.
	NextSeq uint64 `json:"nextSeq"`
	// NextFile numbers the next column file.
	NextFile uint64     `json:"nextFile"`
	Files    []fileInfo `json:"files"`
}

func readManifest(dir string) (manifest, error) {
	p := filepath.Join(dir, manifestName)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return manifest{Format: manifestFormat, NextFile: 1}, nil
	}
	if err != nil {
		return manifest{}, fmt.Errorf("read manifest: %w", err)
	}
	var m manifest
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return manifest{}, fmt.Errorf("read manifest %s: %w", p, err)
	}
	if m.Format != manifestFormat {
		return manifest{}, fmt.Errorf("manifest %s has format %d; this trek reads format %d", p, m.Format, manifestFormat)
	}
	for _, f := range m.Files {
		if f.Name != filepath.Base(f.Name) || !strings.HasSuffix(f.Name, colSuffix) {
			return manifest{}, fmt.Errorf("manifest %s lists a bad file name %q", p, f.Name)
		}
	}
	return m, nil
}

func writeManifest(dir string, m manifest) error {
	m.Format = manifestFormat
	if m.Files == nil {
		m.Files = []fileInfo{}
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return datadir.WriteFileAtomic(filepath.Join(dir, manifestName), append(b, '\n'), 0o600)
}

const colSuffix = ".col"

func colFileName(n uint64) string { return fmt.Sprintf("%08d%s", n, colSuffix) }
