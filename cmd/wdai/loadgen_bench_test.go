package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// The benchmarks' load generator does what wrk does: each request is
// serialised before the timer starts (with the headers Go's client sends),
// written in one write on one of a few kept-alive connections, and its
// answer read with http.ReadResponse. net/http's client spends three
// goroutines on each request (caller, write loop, read loop): CPU on the
// same two cores that a comparison would count against the servers, and
// latency that both servers' p99 would carry.

// dialBench opens n kept-alive connections to addr, closed when b ends.
func dialBench(b *testing.B, addr string, n int) []net.Conn {
	b.Helper()
	conns := make([]net.Conn, n)
	for c := range conns {
		conn, err := (&net.Dialer{}).DialContext(b.Context(), "tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		conns[c] = conn
		b.Cleanup(func() { _ = conn.Close() })
	}
	return conns
}

// rawPost is a whole HTTP/1.1 POST of a JSON body to path at addr, with
// the headers Go's client would send, and extra header lines ("Name: value").
func rawPost(addr, path string, body []byte, extra ...string) []byte {
	req := fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: %d\r\n"+
		"Content-Type: application/json\r\n", path, addr, len(body))
	for _, h := range extra {
		req = append(append(req, h...), "\r\n"...)
	}
	return append(append(req, "Accept-Encoding: gzip\r\n\r\n"...), body...)
}

// answerCheck says what is wrong with an answer, or nil.
type answerCheck func(status int, body []byte) error

func wantStatusOK(status int, _ []byte) error {
	if status != http.StatusOK {
		return fmt.Errorf("status %d", status)
	}
	return nil
}

// sendRound sends requests over the connections, each in one write, reads
// and checks each answer, records each latency, and returns how long the
// round took.
func sendRound(b *testing.B, conns []net.Conn, requests [][]byte, latencies []time.Duration, check answerCheck) time.Duration {
	var next sync.Mutex
	i := 0
	start := time.Now()
	var wg sync.WaitGroup
	for _, conn := range conns {
		wg.Go(func() {
			br := bufio.NewReader(conn)
			for {
				next.Lock()
				n := i
				i++
				next.Unlock()
				if n >= len(requests) {
					return
				}
				t0 := time.Now()
				if _, err := conn.Write(requests[n]); err != nil {
					b.Error(err)
					return
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					b.Error(err)
					return
				}
				body, err := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				latencies[n] = time.Since(t0)
				if err == nil {
					err = check(resp.StatusCode, body)
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}
