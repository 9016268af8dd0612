package gen_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/trekhq/trek/internal/gen"
)

// line is one NDJSON line as a Segment consumer reads it. The tests read
// the output with encoding/json and their own rules, never with the
// generator's code, so that they check the output rather than restate it.
type line struct {
	Type        string  `json:"type"`
	Event       *string `json:"event"`
	Name        string  `json:"name"`
	MessageID   string  `json:"messageId"`
	Timestamp   string  `json:"timestamp"`
	SentAt      string  `json:"sentAt"`
	ReceivedAt  string  `json:"receivedAt"`
	UserID      string  `json:"userId"`
	AnonymousID string  `json:"anonymousId"`
	PreviousID  string  `json:"previousId"`
	GroupID     string  `json:"groupId"`
	// Properties and traits stay raw until a test asks for them:
	// decoding every object of every line would be most of the tests'
	// time under -race.
	RawProperties json.RawMessage `json:"properties"`
	RawTraits     json.RawMessage `json:"traits"`
	Context       lineContext     `json:"context"`
	props, traits map[string]any
	Raw           json.RawMessage `json:"-"`

	// Filled by parse.
	Time    time.Time // corrected: timestamp + (receivedAt − sentAt)
	Invalid string    // why a collector would refuse it, "" if valid
	Dup     bool      // its messageId came before
}

type lineContext struct {
	Channel  string                `json:"channel"`
	Device   struct{ Type string } `json:"device"`
	Campaign *struct {
		Source, Medium, Name string
	} `json:"campaign"`
}

// activity is the name analytics count the event by.
func (l *line) activity() string {
	switch l.Type {
	case "track":
		if l.Event == nil {
			return ""
		}
		return *l.Event
	case "page":
		return "Page Viewed"
	case "screen":
		return "Screen Viewed"
	}
	return string(l.Type[0]-'a'+'A') + l.Type[1:]
}

// Properties decodes the properties on first use.
func (l *line) Properties() map[string]any {
	if l.props == nil && l.RawProperties != nil {
		if err := json.Unmarshal(l.RawProperties, &l.props); err != nil {
			panic(err)
		}
	}
	return l.props
}

// Traits decodes the traits on first use.
func (l *line) Traits() map[string]any {
	if l.traits == nil && l.RawTraits != nil {
		if err := json.Unmarshal(l.RawTraits, &l.traits); err != nil {
			panic(err)
		}
	}
	return l.traits
}

func (l *line) prop(k string) string {
	s, _ := l.Properties()[k].(string)
	return s
}

func parseTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return v
}

// parse reads NDJSON output, checking that every line is a JSON object in
// the Segment shape, and classifies each as a collector would: invalid (no
// identifier, track without event name, timestamp more than 24h after it
// was received), duplicate (messageId seen before) or valid.
func parse(t *testing.T, out []byte) []line {
	t.Helper()
	var lines []line
	seen := map[string]bool{}
	n := 0
	for len(out) > 0 {
		n++
		end := bytes.IndexByte(out, '\n')
		if end < 0 {
			t.Fatalf("line %d does not end in a newline", n)
		}
		// Raw shares the output's memory: the tests keep a few large
		// generations at once.
		raw := out[:end:end]
		out = out[end+1:]
		var l line
		if err := json.Unmarshal(raw, &l); err != nil {
			t.Fatalf("line %d is not a Segment call: %v\n%s", n, err, raw)
		}
		l.Raw = raw
		if !slices.Contains([]string{"track", "identify", "page", "screen", "group", "alias"}, l.Type) {
			t.Fatalf("line %d: type %q", n, l.Type)
		}
		if len(l.MessageID) != 36 {
			t.Fatalf("line %d: messageId %q is not a UUID", n, l.MessageID)
		}
		l.Time = parseTime(t, l.Timestamp)
		var recv time.Time
		if l.ReceivedAt != "" {
			recv = parseTime(t, l.ReceivedAt)
		}
		if l.SentAt != "" {
			l.Time = l.Time.Add(recv.Sub(parseTime(t, l.SentAt)))
		}
		switch {
		case l.UserID == "" && l.AnonymousID == "":
			l.Invalid = "no_identifier"
		case l.Type == "track" && (l.Event == nil || *l.Event == ""):
			l.Invalid = "no_event_name"
		case !recv.IsZero() && l.Time.Sub(recv) > 24*time.Hour:
			l.Invalid = "future_timestamp"
		}
		if l.Invalid == "" {
			l.Dup = seen[l.MessageID]
			seen[l.MessageID] = true
		}
		lines = append(lines, l)
	}
	return lines
}

// generated is a generation kept for the tests that read the same data.
type generated struct {
	out   []byte
	truth gen.Truth
	lines []line
}

var (
	cacheMu sync.Mutex
	cache   = map[string]*generated{}
)

// generate runs WriteNDJSON for cfg once per test binary and parses the
// output.
func generate(t *testing.T, cfg gen.Config) *generated {
	t.Helper()
	key := fmt.Sprintf("%+v", cfg)
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if g, ok := cache[key]; ok {
		return g
	}
	var buf bytes.Buffer
	tr, err := gen.WriteNDJSON(context.Background(), cfg, &buf)
	if err != nil {
		t.Fatal(err)
	}
	g := &generated{out: buf.Bytes(), truth: tr}
	g.lines = parse(t, g.out)
	cache[key] = g
	return g
}

// customers stitches the valid lines into customers with a union-find over
// their identifiers, the way DESIGN.md says: two identifiers on one event,
// or an alias, join them.
type customers struct {
	parent map[string]string
	of     []string // per line, its customer's root ("" for invalid lines)
}

func (c *customers) find(x string) string {
	for c.parent[x] != x {
		c.parent[x] = c.parent[c.parent[x]]
		x = c.parent[x]
	}
	return x
}

func (c *customers) add(x string) {
	if _, ok := c.parent[x]; !ok {
		c.parent[x] = x
	}
}

func (c *customers) union(a, b string) {
	a, b = c.find(a), c.find(b)
	if a != b {
		c.parent[b] = a
	}
}

func stitch(lines []line) *customers {
	c := &customers{parent: map[string]string{}, of: make([]string, len(lines))}
	ids := func(l *line) []string {
		var out []string
		if l.UserID != "" {
			out = append(out, "u:"+l.UserID)
		}
		if l.AnonymousID != "" {
			out = append(out, "a:"+l.AnonymousID)
		}
		if l.PreviousID != "" {
			out = append(out, "u:"+l.PreviousID)
		}
		return out
	}
	for i := range lines {
		l := &lines[i]
		if l.Invalid != "" || l.Dup {
			continue
		}
		id := ids(l)
		for _, x := range id {
			c.add(x)
		}
		for _, x := range id[1:] {
			c.union(id[0], x)
		}
	}
	for i := range lines {
		l := &lines[i]
		if l.Invalid != "" || l.Dup {
			continue
		}
		c.of[i] = c.find(ids(l)[0])
	}
	return c
}

func (c *customers) count() int {
	n := 0
	for x := range c.parent {
		if c.find(x) == x {
			n++
		}
	}
	return n
}

func valid(lines []line) func(yield func(int, *line) bool) {
	return func(yield func(int, *line) bool) {
		for i := range lines {
			if lines[i].Invalid == "" && !lines[i].Dup {
				if !yield(i, &lines[i]) {
					return
				}
			}
		}
	}
}
