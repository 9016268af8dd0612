package analytics

import (
	"cmp"
	"context"
	"slices"
)

// Activity is an event name seen in the data, for pickers that bind a
// map step to events.
type Activity struct {
	Event     string `json:"event"`
	Events    int64  `json:"events"`
	Customers int64  `json:"customers"`
	// Channels counts the events per channel.
	Channels map[string]int64 `json:"channels"`
}

// ActivitiesResult lists every activity, most frequent first.
type ActivitiesResult struct {
	Activities []Activity `json:"activities"`
}

// ListActivities counts each activity's events, customers and channels.
func ListActivities(ctx context.Context, src Source) (ActivitiesResult, error) {
	type acc struct {
		events, customers []int64
		channels          map[[2]uint32]int64
		last              []uint64 // last customer counted, per activity, +1
	}
	accs := make([]*acc, src.Parts())
	for i := range accs {
		accs[i] = &acc{channels: map[[2]uint32]int64{}}
	}
	err := src.Scan(ctx, Need{}, func(part int, j *Journey) error {
		a := accs[part]
		for i, c := range j.Acts {
			if int(c) >= len(a.events) {
				n := int(c) + 1
				a.events = append(a.events, make([]int64, n-len(a.events))...)
				a.customers = append(a.customers, make([]int64, n-len(a.customers))...)
				a.last = append(a.last, make([]uint64, n-len(a.last))...)
			}
			a.events[c]++
			if a.last[c] != j.Customer+1 {
				a.last[c] = j.Customer + 1
				a.customers[c]++
			}
			a.channels[[2]uint32{c, uint32(j.Chans[i])}]++
		}
		return nil
	})
	if err != nil {
		return ActivitiesResult{}, err
	}
	acts, chans := src.Activities(), src.Channels()
	byCode := map[uint32]*Activity{}
	for _, a := range accs {
		for c, n := range a.events {
			if n == 0 {
				continue
			}
			x := byCode[uint32(c)]
			if x == nil {
				x = &Activity{Event: acts.Name(uint32(c)), Channels: map[string]int64{}}
				byCode[uint32(c)] = x
			}
			x.Events += n
			x.Customers += a.customers[c]
		}
		for k, n := range a.channels {
			byCode[k[0]].Channels[chans.Name(k[1])] += n
		}
	}
	res := ActivitiesResult{Activities: []Activity{}}
	for _, x := range byCode {
		res.Activities = append(res.Activities, *x)
	}
	slices.SortFunc(res.Activities, func(a, b Activity) int {
		if c := cmp.Compare(b.Events, a.Events); c != 0 {
			return c
		}
		return cmp.Compare(a.Event, b.Event)
	})
	return res, nil
}
