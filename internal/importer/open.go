package importer

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"

	"github.com/trekhq/trek/internal/fault"
)

// GzipLimits cap what a gzipped input may inflate to (see the package
// documentation). A zero field disables its check.
type GzipLimits struct {
	// MaxInflated caps the inflated size in bytes.
	MaxInflated int64
	// MaxRatio caps the inflated bytes per compressed byte, checked once
	// more than ratioSlack bytes have been inflated.
	MaxRatio int64
}

// DefaultGzipLimits are the limits Open applies.
var DefaultGzipLimits = GzipLimits{MaxInflated: 64 << 30, MaxRatio: 250}

// ratioSlack is how much may be inflated before MaxRatio applies: the
// first blocks of a file (a header row, XES's preamble) can compress far
// better than the rest, and a MiB is harmless.
const ratioSlack = 1 << 20

// Open opens path for reading, gunzipping it when it starts with gzip's
// magic bytes, within DefaultGzipLimits. The reader it returns implements
// Positioner over the file's bytes on disk.
func Open(path string) (io.ReadCloser, error) {
	return OpenLimits(path, DefaultGzipLimits)
}

// OpenLimits is Open with the given limits.
func OpenLimits(path string, lim GzipLimits) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	var size int64
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	rc, err := newReader(f, size, lim, f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return rc, nil
}

// NewReader reads r, gunzipping it when it starts with gzip's magic bytes,
// within lim; for request bodies and pipes. Closing the result does not
// close r. It implements Positioner with a total of 0.
func NewReader(r io.Reader, lim GzipLimits) (io.ReadCloser, error) {
	return newReader(r, 0, lim, nil)
}

func newReader(r io.Reader, size int64, lim GzipLimits, closer io.Closer) (io.ReadCloser, error) {
	raw := &atomicCounter{r: r}
	br := bufio.NewReaderSize(raw, 256<<10)
	magic, err := br.Peek(2)
	if err != nil && err != io.EOF {
		return nil, err
	}
	in := &input{raw: raw, size: size, closer: closer}
	if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		in.r = br
		return in, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, gzipError(err)
	}
	in.zr = zr
	in.ahead = readAhead(&inflated{zr: zr, raw: raw, lim: lim})
	in.r = in.ahead
	return in, nil
}

// input is what Open and NewReader return.
type input struct {
	r      io.Reader
	raw    *atomicCounter
	size   int64
	zr     *gzip.Reader
	ahead  *ahead
	closer io.Closer
}

func (in *input) Read(p []byte) (int, error) { return in.r.Read(p) }

// Position implements Positioner.
func (in *input) Position() (done, total int64) { return in.raw.n.Load(), in.size }

func (in *input) Close() error {
	var err error
	if in.ahead != nil {
		in.ahead.close()
	}
	if in.zr != nil {
		err = in.zr.Close()
	}
	if in.closer != nil {
		err = errors.Join(err, in.closer.Close())
	}
	return err
}

// inflated enforces GzipLimits on the gunzipped stream.
type inflated struct {
	zr  *gzip.Reader
	raw *atomicCounter
	lim GzipLimits
	n   int64
}

func (z *inflated) Read(p []byte) (int, error) {
	n, err := z.zr.Read(p)
	z.n += int64(n)
	if z.lim.MaxInflated > 0 && z.n > z.lim.MaxInflated {
		return n, fault.New(fault.TooLarge, "gzip input inflates to more than %d bytes, the cap on inflated input (a gzip bomb guard)", z.lim.MaxInflated)
	}
	if z.lim.MaxRatio > 0 && z.n > ratioSlack {
		if c := z.raw.n.Load(); c > 0 && z.n/c > z.lim.MaxRatio {
			return n, fault.New(fault.TooLarge, "gzip input inflates more than %d times (%d bytes from %d), the cap on the compression ratio (a gzip bomb guard)", z.lim.MaxRatio, z.n, c)
		}
	}
	if err != nil && err != io.EOF {
		err = gzipError(err)
	}
	return n, err
}

func gzipError(err error) error {
	var corrupt flate.CorruptInputError
	switch {
	case errors.Is(err, gzip.ErrHeader), errors.Is(err, gzip.ErrChecksum), errors.As(err, &corrupt):
		return &fault.Error{Code: fault.Invalid, Message: "corrupt gzip input", Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &fault.Error{Code: fault.Invalid, Message: "gzip input ends early (truncated file?)", Err: err}
	}
	return err
}

// atomicCounter counts bytes read; atomically, because Progress may be
// read from another goroutine than the one reading.
type atomicCounter struct {
	r io.Reader
	n atomic.Int64
}

func (c *atomicCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// ahead inflates on its own goroutine, a few blocks ahead of the reader:
// gunzipping costs about as much as parsing XES, and on a machine with two
// cores the two then overlap instead of adding up.
type ahead struct {
	blocks chan block
	free   chan []byte
	stop   chan struct{}
	done   chan struct{}
	cur    []byte
	buf    []byte
	err    error
}

type block struct {
	b   []byte
	err error
}

const (
	aheadBlock  = 256 << 10
	aheadBlocks = 4
)

func readAhead(r io.Reader) *ahead {
	a := &ahead{
		blocks: make(chan block, aheadBlocks),
		free:   make(chan []byte, aheadBlocks+1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	go func() {
		defer close(a.done)
		for {
			var buf []byte
			select {
			case buf = <-a.free:
			default:
				buf = make([]byte, aheadBlock)
			}
			n := 0
			var err error
			for n < len(buf) && err == nil {
				var m int
				m, err = r.Read(buf[n:])
				n += m
			}
			select {
			case a.blocks <- block{buf[:n], err}:
			case <-a.stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return a
}

func (a *ahead) Read(p []byte) (int, error) {
	for len(a.cur) == 0 {
		if a.err != nil {
			return 0, a.err
		}
		if a.buf != nil {
			select {
			case a.free <- a.buf[:cap(a.buf)]:
			default:
			}
			a.buf = nil
		}
		blk := <-a.blocks
		a.cur, a.buf, a.err = blk.b, blk.b, blk.err
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

// close stops the goroutine and waits for it, so that the file under it
// can be closed.
func (a *ahead) close() {
	select {
	case <-a.stop:
	default:
		close(a.stop)
	}
	<-a.done
}
