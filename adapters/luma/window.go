package luma

import (
	"context"
	"sync"
	"time"
)

// window allows at most limit calls in any span of per, as the provider
// counts them. It remembers when each of the last limit calls ended (its
// answer came back, so the provider had counted it by then) and lets the
// next call start only once the oldest of them is per old. Unlike a token
// bucket it never lets a burst exceed the limit in any window.
type window struct {
	limit int
	per   time.Duration

	mu    sync.Mutex
	ends  []time.Time // ring of the last limit calls' end times; zero: in flight
	next  int
	delay time.Duration // poll interval while the oldest call is in flight
}

func newWindow(limit int, per time.Duration) *window {
	return &window{limit: limit, per: per, ends: make([]time.Time, 0, limit), delay: min(per/20+time.Millisecond, 50*time.Millisecond)}
}

// wait blocks until one more call fits in the window and returns the func
// to call when the call has ended (answered or failed).
func (w *window) wait(ctx context.Context) (done func(), err error) {
	for {
		w.mu.Lock()
		now := time.Now()
		if len(w.ends) < w.limit {
			w.ends = append(w.ends, time.Time{})
			slot := len(w.ends) - 1
			w.mu.Unlock()
			return w.ender(slot), nil
		}
		d := w.delay
		if oldest := w.ends[w.next]; !oldest.IsZero() {
			d = oldest.Add(w.per).Sub(now)
		}
		if d <= 0 {
			slot := w.next
			w.ends[slot] = time.Time{}
			w.next = (w.next + 1) % w.limit
			w.mu.Unlock()
			return w.ender(slot), nil
		}
		w.mu.Unlock()
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

func (w *window) ender(slot int) func() {
	return func() {
		w.mu.Lock()
		w.ends[slot] = time.Now()
		w.mu.Unlock()
	}
}
