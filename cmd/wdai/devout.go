package main

import (
	"fmt"
	"net"
	"os"

	"github.com/womendefiningai/platform/internal/config"
)

// announceGraphiQL prints, in development, the one line a person looks for
// at start-up: where GraphiQL is.
func announceGraphiQL(cfg config.Config, addr net.Addr) {
	if !cfg.Dev() {
		return
	}
	fmt.Fprintf(os.Stderr, "GraphiQL: %s\n", browserURL(addr))
}

// browserURL is the http URL a browser on this machine opens for addr: a
// wildcard listener is reached on 127.0.0.1.
func browserURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String() + "/"
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}
