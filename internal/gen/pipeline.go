package gen

import (
	"context"
	"sync"

	"github.com/trekhq/trek/internal/event"
)

// chunkPersons is how many people one unit of work holds: large enough
// that handing chunks between goroutines costs nothing, small enough that
// the few chunks in flight stay a few megabytes.
const chunkPersons = 64

// chunk is the output of a range of people, made by a worker and consumed
// in order.
type chunk struct {
	lo, hi int64
	buf    []byte
	events []event.Event
	acc    acc
	done   chan struct{}
}

// run generates p's people on p.workers goroutines, chunk by chunk, and
// hands the chunks to consume in the order of the people in them, so the
// output does not depend on the number of workers. produce appends the
// person just generated to the worker's chunk. At most a fixed number of
// chunks are alive at once, whatever the number of people.
func run(ctx context.Context, p *plan, produce func(*worker), consume func(*chunk) error) (Truth, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	nw := max(p.workers, 1)
	inFlight := 2 * nw
	jobs := make(chan *chunk)
	order := make(chan *chunk, inFlight)
	free := make(chan *chunk, inFlight+nw+1)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(jobs)
		defer close(order)
		for lo := int64(0); lo < p.persons; lo += chunkPersons {
			var c *chunk
			select {
			case c = <-free:
			default:
				c = &chunk{}
			}
			c.lo, c.hi = lo, min(lo+chunkPersons, p.persons)
			c.buf, c.events, c.acc = c.buf[:0], c.events[:0], acc{}
			c.done = make(chan struct{})
			select {
			case order <- c:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- c:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range nw {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newWorker(p)
			for c := range jobs {
				w.c = c
				for i := c.lo; i < c.hi && ctx.Err() == nil; i++ {
					w.person(i)
					produce(w)
				}
				close(c.done)
			}
		}()
	}

	var total acc
	err := func() error {
		for c := range order {
			select {
			case <-c.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := consume(c); err != nil {
				return err
			}
			total.add(&c.acc)
			if p.progress != nil {
				p.progress(c.hi, total.lines, p.persons)
			}
			// Drop the events' maps now rather than when the chunk is
			// reused, so memory does not hold a chunk's worth of them.
			clear(c.events)
			select {
			case free <- c:
			default:
			}
		}
		return ctx.Err()
	}()
	cancel()
	wg.Wait()
	if err != nil {
		return Truth{}, err
	}
	return p.truth(&total), nil
}
