package importer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/trekhq/trek/internal/event"
)

// ReadNDJSON reads one Segment-shaped event per line (see the package
// documentation for the mapping) and gives each to sink in file order.
// Lines that are not valid events are reported to opt.OnReject and skipped;
// blank lines are ignored. It returns when the input ends, the context is
// done, the sink fails or reading fails.
//
// Lines are parsed on GOMAXPROCS goroutines, batch by batch, while the
// calling goroutine hands the results to the sink and OnReject in file
// order; parsing JSON is the bulk of an import's work, and this spreads it
// over the machine's cores. Memory stays bounded by the batches in flight.
func ReadNDJSON(ctx context.Context, r io.Reader, opt Options, sink Sink) (Stats, error) {
	ru, cr := newRun(ctx, r, opt, sink)
	if err := ru.check(); err != nil {
		return Stats{}, err
	}
	err := ru.ndjson(cr, runtime.GOMAXPROCS(0))
	return ru.finish(), err
}

const (
	batchLines = 512
	batchBytes = 256 << 10
)

// lineBatch is a run of consecutive lines, parsed by one worker.
type lineBatch struct {
	data  []byte // the lines, copied out of the read buffer
	lines []parsedLine
	done  chan struct{} // closed once every line is parsed
}

type parsedLine struct {
	n          int // line number
	start, end int // the line in data
	// tooLong is set by the reader for a line past MaxRecordBytes; data
	// then holds its first KiB.
	tooLong bool
	blank   bool
	reason  string
	e       event.Event
}

func (ru *run) ndjson(r io.Reader, workers int) error {
	workers = max(workers, 1)
	// In flight: a batch being filled, one per worker being parsed and as
	// many waiting, so that neither side starves the other.
	order := make(chan *lineBatch, 2*workers)
	work := make(chan *lineBatch, 2*workers)
	free := make(chan *lineBatch, 4*workers+2)
	stop := make(chan struct{})
	var readErr error
	go func() {
		defer close(order)
		defer close(work)
		readErr = ru.readLines(r, order, work, free, stop)
	}()
	for range workers {
		p := &ndjsonParser{run: ru, in: newInterner(), ids: idHasher{source: ru.opt.SourceID}}
		p.dec.in, p.dec.lim = p.in, &p.lim
		p.dec.objs = &objectCache{m: map[string]cachedObject{}}
		go func() {
			for b := range work {
				for i := range b.lines {
					p.parseLine(b, &b.lines[i])
				}
				close(b.done)
			}
		}()
	}
	var err error
	for b := range order {
		<-b.done
		if err == nil {
			err = ru.emitBatch(b)
			if err != nil {
				close(stop)
			}
		}
		select {
		case free <- b:
		default:
		}
	}
	if err != nil {
		return err
	}
	return readErr
}

func (ru *run) emitBatch(b *lineBatch) error {
	for i := range b.lines {
		l := &b.lines[i]
		switch {
		case l.tooLong:
			if err := ru.reject(l.n, fmt.Sprintf("line longer than %d bytes", ru.opt.MaxRecordBytes), b.data[l.start:l.end]); err != nil {
				return err
			}
		case l.blank:
		case l.reason != "":
			if err := ru.reject(l.n, l.reason, b.data[l.start:l.end]); err != nil {
				return err
			}
		default:
			if err := ru.emit(&l.e); err != nil {
				return fmt.Errorf("ndjson: line %d: %w", l.n, err)
			}
		}
		l.e = event.Event{} // let the event's maps go with the sink
	}
	return nil
}

// readLines cuts the input into batches of lines and queues each for a
// worker and, in the same order, for the emitter.
func (ru *run) readLines(r io.Reader, order, work, free chan *lineBatch, stop chan struct{}) error {
	br := bufio.NewReaderSize(r, max(ru.opt.MaxRecordBytes+1, 64<<10))
	line := 0
	var b *lineBatch
	send := func() bool {
		if b == nil || len(b.lines) == 0 {
			return true
		}
		select {
		case order <- b:
		case <-stop:
			return false
		}
		work <- b // never blocks for long: workers drain it whatever happens
		b = nil
		return true
	}
	for {
		if b == nil {
			select {
			case b = <-free:
				b.data, b.lines, b.done = b.data[:0], b.lines[:0], make(chan struct{})
			default:
				b = &lineBatch{data: make([]byte, 0, batchBytes+4<<10), lines: make([]parsedLine, 0, batchLines), done: make(chan struct{})}
			}
		}
		chunk, err := br.ReadSlice('\n')
		if len(chunk) == 0 && err == io.EOF {
			break
		}
		line++
		start := len(b.data)
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			b.data = append(b.data, chunk[:min(len(chunk), 1024)]...)
			b.lines = append(b.lines, parsedLine{n: line, start: start, end: len(b.data), tooLong: true})
			err = skipLine(br)
		case err != nil && err != io.EOF:
			send()
			return fmt.Errorf("ndjson: line %d: %w", line, err)
		case len(bytes.TrimRight(chunk, "\r\n")) > ru.opt.MaxRecordBytes:
			b.data = append(b.data, chunk[:min(len(chunk), 1024)]...)
			b.lines = append(b.lines, parsedLine{n: line, start: start, end: len(b.data), tooLong: true})
		default:
			b.data = append(b.data, chunk...)
			b.lines = append(b.lines, parsedLine{n: line, start: start, end: len(b.data)})
		}
		if err != nil && err != io.EOF {
			send()
			return fmt.Errorf("ndjson: line %d: %w", line, err)
		}
		if err == io.EOF {
			break
		}
		if len(b.lines) >= batchLines || len(b.data) >= batchBytes {
			if !send() {
				return nil
			}
		}
	}
	send()
	return nil
}

// skipLine discards input up to and including the next newline.
func skipLine(br *bufio.Reader) error {
	for {
		_, err := br.ReadSlice('\n')
		if !errors.Is(err, bufio.ErrBufferFull) {
			return err
		}
	}
}

// ndjsonParser parses lines; one per worker goroutine, as it keeps
// buffers.
type ndjsonParser struct {
	*run // read only: options and the per-import constants
	in   *interner
	dec  jsonDecoder
	ids  idHasher
}

func (p *ndjsonParser) parseLine(batch *lineBatch, l *parsedLine) {
	if l.tooLong {
		return
	}
	b := bytes.TrimRight(batch.data[l.start:l.end], "\r\n")
	if l.n == 1 {
		if bom := []byte("\xef\xbb\xbf"); bytes.HasPrefix(b, bom) {
			b = b[len(bom):]
			l.start += len(bom)
		}
	}
	l.end = l.start + len(b)
	if len(bytes.TrimSpace(b)) == 0 {
		l.blank = true
		return
	}
	if l.reason = p.parse(b, &l.e); l.reason != "" {
		return
	}
	if l.e.MessageID == "" {
		id := binary.AppendUvarint(p.ids.start(), uint64(l.n))
		l.e.MessageID = p.ids.end("ndjson", appendPart(id, b))
	}
	l.reason = validate(&l.e, &p.lim, !p.dec.bad)
}

// parse decodes one line into e; a non-empty result is why the line is
// not an event.
func (nr *ndjsonParser) parse(b []byte, e *event.Event) string {
	d := &nr.dec
	d.reset(b)
	d.cut = true
	if d.peek() != '{' {
		if d.pos >= len(b) {
			return "malformed JSON: empty line"
		}
		return "malformed JSON: " + d.unexpected("an event object ('{')").Error()
	}
	empty, _ := d.objectStart()
	var channel string
	for !empty {
		kb, err := d.key()
		if err != nil {
			return "malformed JSON: " + err.Error()
		}
		var reason string
		switch string(kb) {
		case "type":
			var s string
			if s, reason = nr.str(d, "type"); reason == "" && s != "" {
				e.Type = event.Type(s)
			}
		case "event":
			e.Event, reason = nr.str(d, "event")
		case "name":
			e.Name, reason = nr.str(d, "name")
		case "userId":
			e.UserID, reason = nr.id(d, "userId")
		case "anonymousId":
			e.AnonymousID, reason = nr.id(d, "anonymousId")
		case "previousId":
			e.PreviousID, reason = nr.id(d, "previousId")
		case "groupId":
			e.GroupID, reason = nr.id(d, "groupId")
		case "messageId":
			if d.peek() == '"' {
				// Unique by definition: interning would only cost; and
				// copied, so that a line whose objects are shared needs
				// no copy of the whole line.
				b, err := d.stringBytes()
				if err != nil {
					return "malformed JSON: " + err.Error()
				}
				e.MessageID = string(b)
			} else {
				e.MessageID, reason = nr.id(d, "messageId")
			}
		case "channel":
			channel, reason = nr.str(d, "channel")
		case "timestamp":
			e.Timestamp, reason = nr.time(d, "timestamp")
		case "originalTimestamp":
			e.OriginalTimestamp, reason = nr.time(d, "originalTimestamp")
		case "sentAt":
			e.SentAt, reason = nr.time(d, "sentAt")
		case "properties":
			e.Properties, reason = nr.obj(d, "properties")
		case "traits":
			e.Traits, reason = nr.obj(d, "traits")
		case "context":
			e.Context, reason = nr.obj(d, "context")
		default:
			// receivedAt, integrations, writeKey, an export's sourceId and
			// customerKey…: the import sets its own or has no use for them,
			// but they must still be well-formed.
			if err := d.skip(); err != nil {
				return "malformed JSON: " + err.Error()
			}
		}
		if reason != "" {
			return reason
		}
		more, err := d.next('}')
		if err != nil {
			return "malformed JSON: " + err.Error()
		}
		empty = !more
	}
	if err := d.end(); err != nil {
		return "malformed JSON: " + err.Error()
	}
	return nr.finishEvent(e, channel)
}

// finishEvent fills in what the import decides; event.Validate checks the
// rest.
func (nr *ndjsonParser) finishEvent(e *event.Event, channel string) string {
	if e.Type == "" {
		e.Type = event.Track
	}
	if e.Timestamp.IsZero() {
		if e.OriginalTimestamp.IsZero() {
			return "no timestamp: an imported event needs its time (timestamp or originalTimestamp)"
		}
		e.Timestamp = e.OriginalTimestamp
	}
	switch {
	case event.KnownChannel(channel):
		e.Channel = channel
	default:
		if c, ok := e.Context["channel"].(string); ok && event.KnownChannel(c) {
			e.Channel = c
		} else {
			e.Channel = nr.channel
		}
	}
	e.ReceivedAt = nr.now
	e.SourceID = nr.opt.SourceID
	return ""
}

// str reads a string or null field.
func (nr *ndjsonParser) str(d *jsonDecoder, field string) (string, string) {
	switch d.peek() {
	case '"':
		b, err := d.stringBytes()
		if err != nil {
			return "", "malformed JSON: " + err.Error()
		}
		if len(b) > internValueLen {
			return d.string(b), ""
		}
		return nr.in.bytes(b), ""
	case 'n':
		if err := d.literal("null"); err != nil {
			return "", "malformed JSON: " + err.Error()
		}
		return "", ""
	}
	return "", nr.wrongType(d, field, "a string")
}

// id reads an identifier: a string, or a number turned into its text as
// Segment does with numeric userIds. Identifiers are interned whatever
// their length: a customer's recur on each of their events.
func (nr *ndjsonParser) id(d *jsonDecoder, field string) (string, string) {
	switch c := d.peek(); {
	case c == '"':
		b, err := d.stringBytes()
		if err != nil {
			return "", "malformed JSON: " + err.Error()
		}
		return nr.in.bytes(b), ""
	case c == '-' || (c >= '0' && c <= '9'):
		b, err := d.numberBytes()
		if err != nil {
			return "", "malformed JSON: " + err.Error()
		}
		return nr.in.bytes(b), ""
	}
	return nr.str(d, field)
}

func (nr *ndjsonParser) time(d *jsonDecoder, field string) (time.Time, string) {
	switch d.peek() {
	case '"':
		b, err := d.stringBytes()
		if err != nil {
			return time.Time{}, "malformed JSON: " + err.Error()
		}
		t, ok := parseISO(b, time.UTC)
		if !ok {
			return time.Time{}, fmt.Sprintf("%s %q is not an ISO-8601 time", field, b)
		}
		return t, ""
	case 'n':
		if err := d.literal("null"); err != nil {
			return time.Time{}, "malformed JSON: " + err.Error()
		}
		return time.Time{}, ""
	}
	return time.Time{}, nr.wrongType(d, field, "an ISO-8601 time string")
}

func (nr *ndjsonParser) obj(d *jsonDecoder, field string) (map[string]any, string) {
	switch d.peek() {
	case '{':
		m, err := d.object()
		if err != nil {
			return nil, "malformed JSON: " + err.Error()
		}
		return m, ""
	case 'n':
		if err := d.literal("null"); err != nil {
			return nil, "malformed JSON: " + err.Error()
		}
		return nil, ""
	}
	return nil, nr.wrongType(d, field, "an object")
}

// wrongType names the field and what it should have been; the value is
// still parsed so that a syntax error in it is reported as such.
func (nr *ndjsonParser) wrongType(d *jsonDecoder, field, want string) string {
	off := d.pos
	if err := d.skip(); err != nil {
		return "malformed JSON: " + err.Error()
	}
	return fmt.Sprintf("%s must be %s (column %d)", field, want, off+1)
}
