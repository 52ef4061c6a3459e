package messaging

import (
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Consumers poll their topic's table; between empty polls they wait
// RouterConfig.PollInterval. A message committed by this process wakes the
// waiting consumers of its topic at once instead, so a chain of handlers
// in one process (a webhook's event, then the member change it causes, then
// the email-list call) is not held up by a poll interval at every step.
// Messages committed by another process still arrive by polling: a wakeup
// only ever starts a poll early, so a missed one costs at most the
// interval, never a message.
var wakeups = newTopicWakeups()

// topicWakeups broadcasts "a message was committed to this topic" to the
// consumers waiting on it, and counts the signals of each topic, so that a
// consumer can tell whether one came while it was polling (and poll again
// instead of waiting: the message may have committed after its poll's
// snapshot).
type topicWakeups struct {
	mu     sync.Mutex
	topics map[string]*topicSignal
}

type topicSignal struct {
	seq     uint64        // signals so far
	waiting chan struct{} // closed by the next signal; nil while nobody waits
}

func newTopicWakeups() *topicWakeups {
	return &topicWakeups{topics: map[string]*topicSignal{}}
}

func (w *topicWakeups) topicLocked(topic string) *topicSignal {
	ts, ok := w.topics[topic]
	if !ok {
		ts = &topicSignal{}
		w.topics[topic] = ts
	}
	return ts
}

// signal wakes every consumer waiting on topic now.
func (w *topicWakeups) signal(topic string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ts := w.topicLocked(topic)
	ts.seq++
	if ts.waiting != nil {
		close(ts.waiting)
		ts.waiting = nil
	}
}

// signalAll signals each topic.
func (w *topicWakeups) signalAll(topics []string) {
	for _, t := range topics {
		w.signal(t)
	}
}

// seq is the number of signals of topic so far.
func (w *topicWakeups) seq(topic string) uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.topicLocked(topic).seq
}

// wait returns at once if topic was signalled since its seq was since;
// otherwise after d, when topic is signalled, or when done is closed,
// whichever comes first. It reports whether topic was signalled.
func (w *topicWakeups) wait(topic string, since uint64, d time.Duration, done <-chan struct{}) bool {
	w.mu.Lock()
	ts := w.topicLocked(topic)
	if ts.seq != since {
		w.mu.Unlock()
		return true
	}
	if ts.waiting == nil {
		ts.waiting = make(chan struct{})
	}
	ch := ts.waiting
	w.mu.Unlock()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ch:
		return true
	case <-timer.C:
	case <-done:
	}
	return false
}

// afterCommitter is a transaction that runs functions once it has
// committed (a unit of work's transaction, a subscriber's).
type afterCommitter interface {
	AfterCommit(fn func())
}

// signalOnceVisible signals topics once what was written to them on db can
// be seen by a poll: now on a pool, at commit in a transaction that can
// say when, and never in one that cannot (its messages wait for a poll).
func signalOnceVisible(db any, topics ...string) {
	switch db := db.(type) {
	case *pgxpool.Pool:
		wakeups.signalAll(topics)
	case afterCommitter:
		db.AfterCommit(func() { wakeups.signalAll(topics) })
	}
}
