package analytics

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/journey"
)

// Limits of map discovery.
const (
	defaultDiscoverMinShare = 0.05
	defaultDiscoverMaxSteps = 12
	maxDiscoverSteps        = 50
	// discoverMaxPosition caps the positions histogram: a step first
	// seen past the 4096th event of a journey is typical of no map.
	discoverMaxPosition = 4096
)

// DiscoverQuery asks for a draft current-state map drawn from the data.
type DiscoverQuery struct {
	// Name of the drafted map; empty gives a name in the locale.
	Name string `json:"name,omitempty"`
	// From and To bound the events read, [From, To); either may be zero.
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
	// MinShare is the share of journeys (0 < MinShare ≤ 1) an activity
	// must appear in to become a step; 0 means 0.05.
	MinShare float64 `json:"minShare,omitempty"`
	// MaxSteps bounds the steps of the draft; 0 means 12, at most 50.
	MaxSteps int `json:"maxSteps,omitempty"`
	// Locale is the map's language (a BCP 47 tag) for the text trek
	// writes: name, description, touchpoint names. Step names are the
	// events' own names.
	Locale string `json:"locale,omitempty"`
}

// DiscoverResult is the drafted map and why it holds what it holds.
type DiscoverResult struct {
	// Map is a valid current-state map (journey.Validate passes), not yet
	// stored: the client shows it, and saves it if the team wants it.
	Map journey.Map `json:"map"`
	// Journeys is how many journeys had events in the range.
	Journeys int `json:"journeys"`
	// Steps explain each step, in map order.
	Steps []DiscoveredStep `json:"steps"`
}

// DiscoveredStep is the evidence behind one drafted step.
type DiscoveredStep struct {
	StepID string `json:"stepId"`
	Event  string `json:"event"`
	// Journeys containing the event, and their share of all journeys.
	Journeys int     `json:"journeys"`
	Share    float64 `json:"share"`
	// MedianPosition is the median index (from 0) of the event's first
	// occurrence in the journeys that contain it: what orders the steps.
	MedianPosition float64 `json:"medianPosition"`
	// Channel is the event's commonest channel (the touchpoint's).
	Channel string `json:"channel"`
	// MainPath says the step lies on a main path: a walk from a common
	// first event along the heaviest directly-follows edges.
	MainPath bool `json:"mainPath"`
}

func (q *DiscoverQuery) normalize() {
	if q.MinShare == 0 {
		q.MinShare = defaultDiscoverMinShare
	}
	if q.MaxSteps == 0 {
		q.MaxSteps = defaultDiscoverMaxSteps
	}
}

func (q DiscoverQuery) validate() error {
	var p problems
	if utf8.RuneCountInString(q.Name) > journey.MaxNameLen || !utf8.ValidString(q.Name) {
		p.add("name", "must be valid text of at most %d characters", journey.MaxNameLen)
	}
	checkRange(&p, q.From, q.To)
	if math.IsNaN(q.MinShare) || q.MinShare < 0 || q.MinShare > 1 {
		p.add("minShare", "must be a share from 0 (exclusive) to 1")
	}
	if q.MaxSteps < 0 || q.MaxSteps > maxDiscoverSteps {
		p.add("maxSteps", "must be from 1 to %d", maxDiscoverSteps)
	}
	if q.Locale != "" {
		if _, err := language.Parse(q.Locale); err != nil {
			p.add("locale", "is not a BCP 47 language tag (e.g. en, vi, el, pl)")
		}
	}
	return invalid("the discovery query is not valid", p.errs)
}

// discoverPart accumulates what discovery reads of the journeys of one
// Scan part. Slices are by activity code and grow as codes appear.
type discoverPart struct {
	journeys int
	cover    []int64   // journeys containing the activity
	starts   []int64   // journeys starting with it
	firstPos [][]int64 // histogram of the index of its first occurrence
	seen     []uint32  // stamp of the journey that last contained it
	stamp    uint32
	edges    map[uint64]int64 // a<<32|b: b directly follows a
	chans    map[uint64]int64 // a<<16|channel: events of a on the channel
}

func (p *discoverPart) grow(a uint32) {
	for int(a) >= len(p.cover) {
		p.cover = append(p.cover, 0)
		p.starts = append(p.starts, 0)
		p.firstPos = append(p.firstPos, nil)
		p.seen = append(p.seen, 0)
	}
}

func (p *discoverPart) journey(j *Journey, lo, hi int) {
	p.journeys++
	p.stamp++
	if p.stamp == 0 {
		clear(p.seen)
		p.stamp = 1
	}
	p.grow(j.Acts[lo])
	p.starts[j.Acts[lo]]++
	for i := lo; i < hi; i++ {
		a := j.Acts[i]
		p.grow(a)
		if p.seen[a] != p.stamp {
			p.seen[a] = p.stamp
			p.cover[a]++
			pos := min(i-lo, discoverMaxPosition)
			h := p.firstPos[a]
			for len(h) <= pos {
				h = append(h, 0)
			}
			h[pos]++
			p.firstPos[a] = h
		}
		p.chans[uint64(a)<<16|uint64(j.Chans[i])]++
		if i > lo {
			p.edges[uint64(j.Acts[i-1])<<32|uint64(a)]++
		}
	}
}

func (p *discoverPart) merge(o *discoverPart) {
	p.journeys += o.journeys
	if len(o.cover) > 0 {
		p.grow(uint32(len(o.cover) - 1))
	}
	for a := range o.cover {
		p.cover[a] += o.cover[a]
		p.starts[a] += o.starts[a]
		h := p.firstPos[a]
		for len(h) < len(o.firstPos[a]) {
			h = append(h, 0)
		}
		for i, c := range o.firstPos[a] {
			h[i] += c
		}
		p.firstPos[a] = h
	}
	for k, c := range o.edges {
		p.edges[k] += c
	}
	for k, c := range o.chans {
		p.chans[k] += c
	}
}

// histogramMedian is the median of the values a histogram counts
// (hist[v] = how many times v occurs), interpolated between the two middle
// values when their number is even, as numpy does.
func histogramMedian(hist []int64) float64 {
	var n int64
	for _, c := range hist {
		n += c
	}
	if n == 0 {
		return 0
	}
	// The values at 0-based ranks (n-1)/2 and n/2.
	at := func(rank int64) float64 {
		for v, c := range hist {
			if rank < c {
				return float64(v)
			}
			rank -= c
		}
		return float64(len(hist) - 1)
	}
	return (at((n-1)/2) + at(n/2)) / 2
}

// histogramMean is the mean of the values a histogram counts.
func histogramMean(hist []int64) float64 {
	var n, sum int64
	for v, c := range hist {
		n += c
		sum += int64(v) * c
	}
	if n == 0 {
		return 0
	}
	return float64(sum) / float64(n)
}

// Discover drafts a current-state map from the journeys with events in the
// range: the activities on the main paths of the directly-follows graph
// and the others that enough journeys share, in their typical order,
// grouped into stages.
//
// Steps are chosen so: an activity is a candidate when at least MinShare
// of the journeys contain it. Main paths start at each candidate that at
// least MinShare of journeys start with (the commonest first) and follow
// the heaviest edge to a candidate not yet on the path until none is
// left. The main-path activities come first; when they are more than
// MaxSteps, the most common are kept; when fewer, the commonest other
// candidates fill up to MaxSteps. Steps are ordered by the median
// position of their first occurrence, ties by the mean position, then by
// commonness and name, and
// cut into three to six stages of near-equal size (fewer when there are
// fewer steps), each named after its first step. Every step is bound to
// its event and has a touchpoint on the event's commonest channel.
func Discover(ctx context.Context, src Source, q DiscoverQuery) (DiscoverResult, error) {
	if err := q.validate(); err != nil {
		return DiscoverResult{}, err
	}
	q.normalize()
	rng := Range{q.From, q.To}
	from, to := rng.fromNanos(), rng.toNanos()
	parts := make([]*discoverPart, src.Parts())
	for i := range parts {
		parts[i] = &discoverPart{edges: map[uint64]int64{}, chans: map[uint64]int64{}}
	}
	err := src.Scan(ctx, Need{From: q.From, To: q.To}, func(pi int, j *Journey) error {
		lo, _ := slices.BinarySearch(j.Times, from)
		hi := lo
		for hi < len(j.Times) && j.Times[hi] < to {
			hi++
		}
		if hi > lo {
			parts[pi].journey(j, lo, hi)
		}
		return nil
	})
	if err != nil {
		return DiscoverResult{}, fmt.Errorf("discover: %w", err)
	}
	all := parts[0]
	for _, p := range parts[1:] {
		all.merge(p)
	}
	if all.journeys == 0 {
		return DiscoverResult{}, fault.New(fault.Invalid, "there are no events in the range to draft a map from")
	}
	return draftMap(q, all, src.Activities(), src.Channels())
}

// discoverNameOK reports whether an activity's name can bind a step.
func discoverNameOK(name string) bool {
	return strings.TrimSpace(name) != "" && utf8.ValidString(name) && utf8.RuneCountInString(name) <= journey.MaxNameLen
}

func draftMap(q DiscoverQuery, d *discoverPart, acts, chans *Dict) (DiscoverResult, error) {
	names := acts.Names()
	total := float64(d.journeys)
	// A tiny tolerance keeps 0.05 of 20 journeys at one journey despite
	// binary fractions.
	common := func(n int64) bool { return float64(n)/total >= q.MinShare-1e-12 }
	var cands []uint32
	isCand := map[uint32]bool{}
	for a := range d.cover {
		if a < len(names) && common(d.cover[a]) && discoverNameOK(names[a]) {
			cands = append(cands, uint32(a))
			isCand[uint32(a)] = true
		}
	}
	if len(cands) == 0 {
		var p problems
		p.add("minShare", "no event appears in %s of the %d journeys: lower minShare", strconv.FormatFloat(q.MinShare*100, 'f', -1, 64)+"%", d.journeys)
		return DiscoverResult{}, invalid("the discovery query is not valid", p.errs)
	}
	// commoner orders activities by journeys containing them, then name.
	commoner := func(a, b uint32) int {
		return cmp.Or(cmp.Compare(d.cover[b], d.cover[a]), strings.Compare(names[a], names[b]))
	}

	// Outgoing edges among candidates, heaviest first.
	out := map[uint32][]uint32{}
	for _, k := range slices.Sorted(maps.Keys(d.edges)) {
		a, b := uint32(k>>32), uint32(k)
		if a != b && isCand[a] && isCand[b] {
			out[a] = append(out[a], b)
		}
	}
	for a, bs := range out {
		slices.SortFunc(bs, func(x, y uint32) int {
			return cmp.Or(cmp.Compare(d.edges[uint64(a)<<32|uint64(y)], d.edges[uint64(a)<<32|uint64(x)]),
				strings.Compare(names[x], names[y]))
		})
	}
	starters := slices.Clone(cands)
	slices.SortFunc(starters, func(a, b uint32) int {
		return cmp.Or(cmp.Compare(d.starts[b], d.starts[a]), strings.Compare(names[a], names[b]))
	})
	var main []uint32
	onMain := map[uint32]bool{}
	for i, s := range starters {
		// The commonest start always walks, so that a log whose first
		// events are scattered still has a main path.
		if d.starts[s] == 0 || (i > 0 && !common(d.starts[s])) {
			break
		}
		visited := map[uint32]bool{}
		for cur := s; ; {
			visited[cur] = true
			if !onMain[cur] {
				onMain[cur] = true
				main = append(main, cur)
			}
			next, ok := uint32(0), false
			for _, b := range out[cur] {
				if !visited[b] {
					next, ok = b, true
					break
				}
			}
			if !ok {
				break
			}
			cur = next
		}
	}
	chosen := main
	if len(chosen) > q.MaxSteps {
		chosen = slices.Clone(chosen)
		slices.SortFunc(chosen, commoner)
		chosen = chosen[:q.MaxSteps]
	} else {
		rest := slices.DeleteFunc(slices.Clone(cands), func(a uint32) bool { return onMain[a] })
		slices.SortFunc(rest, commoner)
		chosen = append(slices.Clone(chosen), rest[:min(len(rest), q.MaxSteps-len(chosen))]...)
	}
	pos := make(map[uint32]float64, len(chosen))
	mean := make(map[uint32]float64, len(chosen))
	for _, a := range chosen {
		pos[a] = histogramMedian(d.firstPos[a])
		mean[a] = histogramMean(d.firstPos[a])
	}
	// Medians of short journeys tie often; the mean then says which step
	// tends to come later (one that follows a loop, say).
	slices.SortFunc(chosen, func(a, b uint32) int {
		return cmp.Or(cmp.Compare(pos[a], pos[b]), cmp.Compare(mean[a], mean[b]), commoner(a, b))
	})

	loc := journey.SupportedLocale(q.Locale)
	text := discoverText[loc]
	m := journey.Map{Name: strings.TrimSpace(q.Name), Kind: journey.CurrentState, Locale: q.Locale,
		Description: fmt.Sprintf(text.description, d.journeys), Lanes: journey.DefaultLanes(journey.CurrentState)}
	if m.Name == "" {
		m.Name = text.name
	}
	if m.Locale == "" {
		m.Locale = loc
	}
	res := DiscoverResult{Journeys: d.journeys}
	ids := map[string]bool{}
	steps := make([]journey.Step, len(chosen))
	for i, a := range chosen {
		name := names[a]
		ch := discoverChannel(d, a, chans)
		id := discoverID(name, ids)
		steps[i] = journey.Step{ID: id, Name: name,
			Touchpoints: []journey.Touchpoint{{Channel: ch, Name: discoverChannelNames[loc][ch]}},
			Binding:     &journey.Binding{Events: []string{name}}}
		res.Steps = append(res.Steps, DiscoveredStep{StepID: id, Event: name, Journeys: int(d.cover[a]),
			Share: float64(d.cover[a]) / total, MedianPosition: pos[a], Channel: ch, MainPath: onMain[a]})
	}
	// Three to six stages of near-equal size, the first ones one step
	// larger when the steps do not divide evenly.
	n := len(steps)
	k := min(n, max(3, min(6, (n+2)/3)))
	for s, at := 0, 0; s < k; s++ {
		size := n / k
		if s < n%k {
			size++
		}
		st := journey.Stage{ID: "stage-" + strconv.Itoa(s+1), Name: steps[at].Name, Steps: steps[at : at+size : at+size]}
		m.Stages = append(m.Stages, st)
		at += size
	}
	if err := journey.Validate(&m); err != nil {
		// Every part of the draft is made to pass; a failure is a bug.
		return DiscoverResult{}, fmt.Errorf("discover: the drafted map is not valid: %w", err)
	}
	res.Map = m
	return res, nil
}

// discoverChannel returns a's commonest channel among the map's channels
// (ties by name), "other" when it has none.
func discoverChannel(d *discoverPart, a uint32, chans *Dict) string {
	best, bestN := "other", int64(0)
	for k, c := range d.chans {
		if uint32(k>>16) != a {
			continue
		}
		name := chans.Name(uint32(k & 0xffff))
		if !journey.ValidChannel(name) {
			continue
		}
		if c > bestN || (c == bestN && name < best) {
			best, bestN = name, c
		}
	}
	return best
}

// discoverID makes a step id from an activity name: lower-case ASCII
// letters and digits joined by '-', unique within the map.
func discoverID(name string, used map[string]bool) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			if b.Len() >= 56 {
				break
			}
			continue
		}
		dash = true
	}
	base := b.String()
	if base == "" {
		base = "step"
	}
	id := base
	for i := 2; used[id]; i++ {
		id = base + "-" + strconv.Itoa(i)
	}
	used[id] = true
	return id
}

// discoverText is what discovery writes in each locale.
var discoverText = map[string]struct{ name, description string }{
	"en": {"Current journey (drafted from data)",
		"Drafted by trek from %d journeys: the steps most customers take, in their usual order. Review the steps and stages before relying on it."},
	"vi": {"Hành trình hiện tại (phác thảo từ dữ liệu)",
		"trek phác thảo từ %d hành trình: các bước mà phần lớn khách hàng đi qua, theo thứ tự thường gặp. Hãy xem lại các bước và giai đoạn trước khi sử dụng."},
	"el": {"Τρέχον ταξίδι (προσχέδιο από δεδομένα)",
		"Προσχέδιο του trek από %d ταξίδια: τα βήματα που κάνουν οι περισσότεροι πελάτες, με τη συνήθη σειρά τους. Ελέγξτε τα βήματα και τα στάδια πριν βασιστείτε σε αυτό."},
	"pl": {"Obecna ścieżka (szkic z danych)",
		"Szkic przygotowany przez trek na podstawie %d ścieżek: kroki, które przechodzi większość klientów, w zwykłej kolejności. Sprawdź kroki i etapy, zanim zaczniesz na nim polegać."},
}

// discoverChannelNames name the touchpoints, as the web app names the
// channels.
var discoverChannelNames = map[string]map[string]string{
	"en": {"web": "Web", "mobile": "Mobile app", "call_centre": "Call centre", "store": "Store", "email": "Email",
		"social": "Social media", "ads": "Ads", "chat": "Chat", "partner": "Partner", "crm": "CRM", "other": "Other"},
	"vi": {"web": "Trang web", "mobile": "Ứng dụng di động", "call_centre": "Tổng đài", "store": "Cửa hàng",
		"email": "Thư điện tử", "social": "Mạng xã hội", "ads": "Quảng cáo", "chat": "Trò chuyện trực tuyến",
		"partner": "Đối tác", "crm": "Hệ thống CRM", "other": "Khác"},
	"el": {"web": "Ιστότοπος", "mobile": "Εφαρμογή κινητού", "call_centre": "Τηλεφωνικό κέντρο", "store": "Κατάστημα",
		"email": "Ηλεκτρονικό ταχυδρομείο", "social": "Μέσα κοινωνικής δικτύωσης", "ads": "Διαφημίσεις",
		"chat": "Συνομιλία", "partner": "Συνεργάτης", "crm": "Σύστημα CRM", "other": "Άλλο"},
	"pl": {"web": "Strona WWW", "mobile": "Aplikacja mobilna", "call_centre": "Infolinia", "store": "Sklep",
		"email": "E-mail", "social": "Media społecznościowe", "ads": "Reklamy", "chat": "Czat",
		"partner": "Partner handlowy", "crm": "System CRM", "other": "Inne"},
}
