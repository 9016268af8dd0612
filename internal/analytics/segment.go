package analytics

import "context"

// Filter returns a Source that yields only the journeys of src whose
// customer belongs to seg: traits passing every filter in seg.Where and,
// when seg.Performed is set, an event in r matching it. Every query then
// runs on the segment alone, which is how the live map narrows its
// numbers.
func Filter(src Source, seg Segment, r Range) Source {
	return &filtered{Source: src, seg: seg, r: r}
}

type filtered struct {
	Source
	seg Segment
	r   Range
}

func (f *filtered) Scan(ctx context.Context, need Need, fn func(part int, j *Journey) error) error {
	cs := compiledSegment{}
	for _, w := range f.seg.Where {
		cs.where = append(cs.where, traitPred(w))
		need.Traits = true
	}
	if p := f.seg.Performed; p != nil {
		cs.performed = compileMatcher(*p, f.Activities(), f.Channels())
		p.need(&need)
	}
	from, to := f.r.fromNanos(), f.r.toNanos()
	return f.Source.Scan(ctx, need, func(part int, j *Journey) error {
		if !cs.contains(j, from, to) {
			return nil
		}
		return fn(part, j)
	})
}
