package importer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trekhq/trek/internal/event"
	"github.com/trekhq/trek/internal/fault"
)

// CSVMapping says which columns of a CSV file hold what; columns are named
// by their header. Every column it does not name is a property.
type CSVMapping struct {
	// Customer is the column of the customer id (the event's UserID).
	Customer string
	// Event is the column of the event name.
	Event string
	// Time is the column of the event time.
	Time string
	// Channel, optional, is the column of the channel.
	Channel string
	// TimeLayout is the Go layout of the time column
	// ("2006-01-02 15:04:05.999999-07:00"). Empty: detected per value
	// among ISO 8601 / RFC 3339 (with "T" or a space, any fraction, zones
	// as Z, ±hh, ±hhmm or ±hh:mm), 2006/01/02 15:04:05, 02.01.2006
	// 15:04:05, RFC 1123 and Unix seconds (10 digits) or milliseconds (13
	// digits). Slashed day/month dates are ambiguous and need a layout.
	TimeLayout string
	// Location is the zone of times written without one; default UTC.
	Location *time.Location
	// Comma is the field separator; 0 detects it from the header line
	// among ',', ';', tab and '|'.
	Comma rune
}

// ReadCSV reads an event log with one event per row and a header row,
// mapped by m (see the package documentation), and gives each event to
// sink in file order. Rows that are not valid events are reported to
// opt.OnReject and skipped. A header that lacks a mapped column is an
// error naming the column.
func ReadCSV(ctx context.Context, r io.Reader, m CSVMapping, opt Options, sink Sink) (Stats, error) {
	ru, cr := newRun(ctx, r, opt, sink)
	if err := ru.check(); err != nil {
		return Stats{}, err
	}
	c := &csvReader{run: ru, m: m, in: newInterner()}
	err := c.read(cr)
	return ru.finish(), err
}

type csvReader struct {
	*run
	m        CSVMapping
	in       *interner
	header   []string
	customer int
	event    int
	time     int
	channel  int
	times    timeParser
	keysOK   bool // every column name is a valid property key
	rlim     *recordLimit
}

func (c *csvReader) read(r io.Reader) error {
	if c.m.Customer == "" || c.m.Event == "" || c.m.Time == "" {
		return fault.Fields("csv: the column mapping is incomplete", missingMapping(c.m))
	}
	c.rlim = &recordLimit{r: r, max: int64(c.opt.MaxRecordBytes) + 64<<10}
	br := bufio.NewReaderSize(c.rlim, 64<<10)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	comma := c.m.Comma
	if comma == 0 {
		comma = detectComma(br)
	}
	cr := csv.NewReader(br)
	cr.Comma = comma
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return invalidf("csv: the file is empty: it needs a header row")
	}
	if err != nil {
		return c.hardError(err, "header")
	}
	if err := c.mapHeader(header); err != nil {
		return err
	}
	loc := c.m.Location
	if loc == nil {
		loc = time.UTC
	}
	c.times = timeParser{layout: c.m.TimeLayout, loc: loc}
	for {
		c.rlim.reset()
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount):
			if err := c.reject(pe.StartLine, fmt.Sprintf("row has %d fields, the header has %d", len(rec), len(c.header)), csvRaw(rec, comma)); err != nil {
				return err
			}
			continue
		case errors.As(err, &pe) && !c.rlim.over:
			if err := c.reject(pe.StartLine, "malformed CSV: "+pe.Err.Error(), nil); err != nil {
				return err
			}
			continue
		case err != nil:
			return c.hardError(err, "row")
		}
		line, _ := cr.FieldPos(0)
		if err := c.row(line, rec, comma); err != nil {
			return err
		}
	}
}

func missingMapping(m CSVMapping) []fault.FieldError {
	var fe []fault.FieldError
	for _, f := range []struct{ name, v string }{{"customer", m.Customer}, {"event", m.Event}, {"time", m.Time}} {
		if f.v == "" {
			fe = append(fe, fault.FieldError{Path: f.name, Message: "name the column that holds the " + f.name})
		}
	}
	return fe
}

func (c *csvReader) hardError(err error, what string) error {
	if c.rlim.over {
		return invalidf("csv: a %s longer than %d bytes", what, c.opt.MaxRecordBytes)
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return invalidf("csv: %s: line %d, column %d: %v", what, pe.Line, pe.Column, pe.Err)
	}
	return fmt.Errorf("csv: read: %w", err)
}

func (c *csvReader) mapHeader(header []string) error {
	c.header = make([]string, len(header))
	seen := make(map[string]bool, len(header))
	c.keysOK = true
	for i, h := range header {
		h = strings.TrimSpace(h)
		if !utf8.ValidString(h) {
			return invalidf("csv: header column %d is not valid UTF-8", i+1)
		}
		if h == "" {
			// A header row often ends with a stray separator; its
			// unnamed column still gets a usable property name.
			h = "column " + strconv.Itoa(i+1)
		}
		c.keysOK = c.keysOK && keyOK(h)
		if seen[h] {
			return invalidf("csv: the header has two columns named %q", h)
		}
		seen[h] = true
		c.header[i] = h
	}
	find := func(role, name string) (int, error) {
		for i, h := range c.header {
			if h == name {
				return i, nil
			}
		}
		return -1, invalidf("csv: the %s column %q is not in the header; its columns are: %s", role, name, strings.Join(quoteAll(c.header), ", "))
	}
	var err error
	if c.customer, err = find("customer", c.m.Customer); err != nil {
		return err
	}
	if c.event, err = find("event", c.m.Event); err != nil {
		return err
	}
	if c.time, err = find("time", c.m.Time); err != nil {
		return err
	}
	c.channel = -1
	if c.m.Channel != "" {
		if c.channel, err = find("channel", c.m.Channel); err != nil {
			return err
		}
	}
	return nil
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

func (c *csvReader) row(line int, rec []string, comma rune) error {
	for i, f := range rec {
		if !utf8.ValidString(f) {
			return c.reject(line, fmt.Sprintf("column %q is not valid UTF-8", c.header[i]), csvRaw(rec, comma))
		}
	}
	e := event.Event{
		Type:       event.Track,
		UserID:     c.in.str(rec[c.customer]),
		Event:      c.in.str(rec[c.event]),
		Channel:    c.run.channel,
		ReceivedAt: c.now,
		SourceID:   c.opt.SourceID,
	}
	switch {
	case e.UserID == "":
		return c.reject(line, fmt.Sprintf("no customer id in column %q", c.m.Customer), csvRaw(rec, comma))
	case e.Event == "":
		return c.reject(line, fmt.Sprintf("no event name in column %q", c.m.Event), csvRaw(rec, comma))
	case rec[c.time] == "":
		return c.reject(line, fmt.Sprintf("no time in column %q", c.m.Time), csvRaw(rec, comma))
	}
	t, err := c.times.parse([]byte(rec[c.time]))
	if err != nil {
		return c.reject(line, fmt.Sprintf("column %q: %v", c.m.Time, err), csvRaw(rec, comma))
	}
	e.Timestamp = t
	props := make(map[string]any, len(rec))
	for i, f := range rec {
		if f == "" || i == c.customer || i == c.event || i == c.time {
			continue
		}
		if i == c.channel && event.KnownChannel(f) {
			e.Channel = c.in.str(f)
			continue
		}
		props[c.header[i]] = c.in.strValue(f)
	}
	if len(props) > 0 {
		e.Properties = props
	}
	id := binary.AppendUvarint(c.ids.start(), uint64(line))
	for _, f := range rec {
		id = appendPartString(id, f)
	}
	e.MessageID = c.ids.end("csv", id)
	checked := c.keysOK && len(props) <= c.lim.MaxProperties
	if reason := validate(&e, &c.lim, checked); reason != "" {
		return c.reject(line, reason, csvRaw(rec, comma))
	}
	if err := c.emit(&e); err != nil {
		return fmt.Errorf("csv: line %d: %w", line, err)
	}
	return nil
}

// csvRaw re-encodes a row for OnReject: encoding/csv does not keep the
// raw bytes.
func csvRaw(rec []string, comma rune) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Comma = comma
	w.Write(rec)
	w.Flush()
	return bytes.TrimRight(b.Bytes(), "\r\n")
}

// detectComma picks the separator that occurs most often, outside
// quotes, in the first line.
func detectComma(br *bufio.Reader) rune {
	head, _ := br.Peek(br.Size())
	if k := bytes.IndexByte(head, '\n'); k >= 0 {
		head = head[:k]
	}
	counts := map[byte]int{}
	quoted := false
	for _, c := range head {
		switch {
		case c == '"':
			quoted = !quoted
		case !quoted && (c == ',' || c == ';' || c == '\t' || c == '|'):
			counts[c]++
		}
	}
	best, n := byte(','), 0
	for _, c := range []byte{',', ';', '\t', '|'} {
		if counts[c] > n {
			best, n = c, counts[c]
		}
	}
	return rune(best)
}

// recordLimit fails a read once more than max bytes have been read since
// the last reset: encoding/csv has no cap on a record's size, and one
// unterminated quote would otherwise pull the whole file into memory.
type recordLimit struct {
	r    io.Reader
	max  int64
	n    int64
	over bool
}

var errRecordTooLong = errors.New("record too long")

func (l *recordLimit) reset() { l.n = 0 }

func (l *recordLimit) Read(p []byte) (int, error) {
	if l.n >= l.max {
		l.over = true
		return 0, errRecordTooLong
	}
	if rem := l.max - l.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}
