package main_test

import (
	"context"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/womendefiningai/platform/internal/testdb"
)

// chromium returns the path of a Chromium to drive, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("SKIP: no Chromium on PATH (Debian: apt-get install -y chromium); the offline GraphiQL browser test did not run")
	return ""
}

// browser starts headless Chromium with every host name except 127.0.0.1
// unresolvable: the network beyond this machine is blocked. It records every
// URL the page requests.
func browser(t *testing.T) (context.Context, func() []string) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
		chromedp.Flag("proxy-server", "http://127.0.0.1:9"), // and no proxy either: port 9 discards
		chromedp.Flag("proxy-bypass-list", "<-loopback>;127.0.0.1"),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	var mu sync.Mutex
	var requested []string
	err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			requested = append(requested, e.Request.URL)
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), requested...)
	}
}

// TestGraphiQLOffline is the "GraphiQL offline" acceptance: with the network
// blocked, the page served by wdai loads (every asset from wdai itself),
// runs `{ membershipTiers { name } }` typed into its editor through the run
// button, and shows the tiers. When an asset cannot load, the page says so
// instead of "Loading…".
func TestGraphiQLOffline(t *testing.T) {
	t.Parallel()
	chromium(t)
	p := start(t, map[string]string{"DATABASE_URL": pricedTiersURL(t, testdb.NewURL(t))}, "serve")
	p.waitReady(t, 60*time.Second)
	base := "http://" + p.addr + "/"

	ctx, requested := browser(t)
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("enable network events: %v", err)
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(base),
		// Type the query into the editor and press the run button.
		chromedp.Poll[chromedp.Void](`(function () {
			var cm = document.querySelector('.graphiql-query-editor .CodeMirror');
			var run = document.querySelector('.graphiql-execute-button');
			if (!cm || !run) { return false; }
			cm.CodeMirror.setValue('{ membershipTiers { name } }');
			run.click();
			return true;
		})()`, chromedp.WithPollingTimeout(30*time.Second)),
	)
	if err != nil {
		t.Fatalf("drive GraphiQL: %v\nrequested: %v", err, requested())
	}
	result, err := chromedp.Run(ctx, chromedp.Poll[string](`(function () {
			var cm = document.querySelector('.graphiql-response .CodeMirror');
			var v = cm && cm.CodeMirror.getValue();
			return v && v.indexOf('membershipTiers') >= 0 ? v : false;
		})()`, chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		t.Fatalf("read GraphiQL's result: %v\nrequested: %v", err, requested())
	}
	for _, tier := range []string{`"Community"`, `"Professional"`, `"Leader"`} {
		if !strings.Contains(result, tier) {
			t.Errorf("GraphiQL result lacks %s:\n%s", tier, result)
		}
	}
	for _, u := range requested() {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "data" && pu.Host != p.addr) {
			t.Errorf("the page requested %s, beyond wdai", u)
		}
	}
	t.Logf("result in GraphiQL:\n%s", result)

	// An asset that cannot load: the page names it.
	ctx2, _ := browser(t)
	if _, err := chromedp.Call(ctx2, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("enable network: %v", err)
	}
	_, err = chromedp.Call(ctx2, network.SetBlockedURLs, network.SetBlockedURLsParams{
		URLPatterns: []*network.BlockPattern{{URLPattern: "*://*:*/graphiql/assets/graphiql.min.js", Block: true}},
	})
	if err != nil {
		t.Fatalf("block an asset: %v", err)
	}
	if err := chromedp.Do(ctx2, chromedp.Navigate(base)); err != nil {
		t.Fatalf("page with a blocked asset: %v", err)
	}
	status, err := chromedp.Run(ctx2, chromedp.Poll[string](`(function () {
			var s = document.getElementById('graphiql-status');
			return s && s.className === 'failed' ? s.textContent : false;
		})()`, chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		dump, _ := chromedp.Run(ctx2, chromedp.Evaluate[string](`document.body.innerHTML.slice(0, 500) + ' failures=' + JSON.stringify(window.graphiqlFailures)`))
		t.Fatalf("page with a blocked asset: %v\npage: %s", err, dump)
	}
	if !strings.Contains(status, "could not load") || !strings.Contains(status, "graphiql.min.js") {
		t.Errorf("status with graphiql.min.js blocked = %q, want it to name the asset", status)
	}
	t.Logf("status with an asset blocked: %s", status)
}
