package application_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// vendorWords are the providers the application and its ports must never
// name: each port is named for the need, never for a vendor. They are built
// from pieces so that this file does not name them itself.
func vendorWords() []string {
	return []string{"str" + "ipe", "mail" + "chimp", "cl" + "erk", "lu" + "ma", "sl" + "ack"}
}

// vendorHit is one line of a Go file that names a provider.
type vendorHit struct {
	Path string
	Line int
	Word string
	Text string
}

func (h vendorHit) String() string {
	return fmt.Sprintf("%s:%d: names %q: %s", h.Path, h.Line, h.Word, strings.TrimSpace(h.Text))
}

// findVendorWords reports every line of every .go file under root (test
// files included, comments and strings included) that contains one of
// words, ignoring case, anywhere in it. skip leaves out one file.
func findVendorWords(root string, words []string, skip func(path string) bool) ([]vendorHit, error) {
	var hits []vendorHit
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(d.Name(), ".go") || skip(path) {
			return nil
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(make([]byte, 0, 64*1024), len(body)+1)
		for n := 1; sc.Scan(); n++ {
			lower := strings.ToLower(sc.Text())
			for _, w := range words {
				if strings.Contains(lower, w) {
					hits = append(hits, vendorHit{Path: path, Line: n, Word: w, Text: sc.Text()})
				}
			}
		}
		return sc.Err()
	})
	return hits, err
}

func TestApplicationAndPortsNameNoVendor(t *testing.T) {
	t.Parallel()
	self, err := filepath.Abs("vendor_words_test.go")
	if err != nil {
		t.Fatal(err)
	}
	isSelf := func(path string) bool {
		abs, err := filepath.Abs(path)
		return err == nil && abs == self
	}

	t.Run("the checker reports a provider name", func(t *testing.T) {
		t.Parallel()
		for _, word := range vendorWords() {
			t.Run(word, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				nested := filepath.Join(dir, "adapters", "deep")
				if err := os.MkdirAll(nested, 0o755); err != nil {
					t.Fatal(err)
				}
				// Upper case inside an identifier, in a nested directory.
				mixed := strings.ToUpper(word[:1]) + word[1:]
				files := map[string]string{
					filepath.Join(nested, "bad.go"):    "package deep\n\n// Topic of the events.\nconst Topic = \"x" + mixed + "Event\"\n",
					filepath.Join(dir, "clean.go"):     "package clean\n\n// Nothing to see.\n",
					filepath.Join(dir, "notes.md"):     "not Go: " + word + "\n",
					filepath.Join(dir, "ignored.go"):   "package clean // " + word + "\n",
					filepath.Join(dir, "bad_test.go"):  "package clean_test\n/* " + strings.ToUpper(word) + " */\n",
					filepath.Join(dir, "also.go.orig"): word,
				}
				for path, body := range files {
					if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
						t.Fatal(err)
					}
				}
				hits, err := findVendorWords(dir, vendorWords(), func(path string) bool { return filepath.Base(path) == "ignored.go" })
				if err != nil {
					t.Fatal(err)
				}
				want := map[string]int{filepath.Join(nested, "bad.go"): 4, filepath.Join(dir, "bad_test.go"): 2}
				if len(hits) != len(want) {
					t.Fatalf("hits = %v, want one in each of %v", hits, want)
				}
				for _, h := range hits {
					if want[h.Path] != h.Line || h.Word != word {
						t.Errorf("hit %v, want %q at one of %v", h, word, want)
					}
				}
			})
		}
	})

	t.Run("application and ports", func(t *testing.T) {
		t.Parallel()
		for _, root := range []string{".", filepath.Join("..", "ports")} {
			hits, err := findVendorWords(root, vendorWords(), isSelf)
			if err != nil {
				t.Fatalf("walk %s: %v", root, err)
			}
			for _, h := range hits {
				t.Errorf("%v", h)
			}
		}
	})
}
