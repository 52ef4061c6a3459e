package agentkey_test

import (
	"strings"
	"testing"

	"github.com/womendefiningai/platform/domain/agentkey"
)

func TestGenerateParseMatch(t *testing.T) {
	k, err := agentkey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	text := k.String()
	if !strings.HasPrefix(text, "wdai_") || len(text) != len("wdai_")+8+1+32 {
		t.Fatalf("key %q has the wrong shape", text)
	}
	got, err := agentkey.Parse(text)
	if err != nil || got != k {
		t.Fatalf("Parse(%q) = %+v, %v", text, got, err)
	}
	if !got.Matches(k.Hash()) {
		t.Fatal("a key does not match its own hash")
	}
	other, _ := agentkey.Generate()
	if other.Matches(k.Hash()) || (agentkey.Key{ID: k.ID, Secret: other.Secret}).Matches(k.Hash()) {
		t.Fatal("another secret matches")
	}
	if strings.Contains(string(k.Hash()), k.Secret) {
		t.Fatal("the hash carries the secret")
	}
}

func TestParseRefusesWhatIsNotAKey(t *testing.T) {
	k, _ := agentkey.Generate()
	for _, s := range []string{"", "wdai_", "wdai_abc", k.String() + "x", strings.ToUpper(k.String()), "wdai_" + k.ID + "-" + k.Secret,
		"xdai_" + k.ID + "_" + k.Secret, "wdai_" + k.ID + "_" + k.Secret[:31] + "1", "wdai_" + k.ID + "_" + k.Secret[:31] + "'"} {
		if _, err := agentkey.Parse(s); err == nil {
			t.Errorf("Parse(%q) accepted", s)
		}
	}
}
