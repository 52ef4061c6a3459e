// Package agentkey is the format of an agent's API key: "wdai_", a public
// prefix that names the key, "_", and a secret. Only a hash of the secret is
// kept; the prefix finds the stored key, and the hashes are compared in
// constant time.
package agentkey

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"strings"
)

// Prefix starts every key, so that a key is recognised (and a secret
// scanner can find one that leaked).
const Prefix = "wdai_"

const (
	idBytes     = 5  // 8 base32 characters: the look-up prefix
	secretBytes = 20 // 32 base32 characters, 160 bits
)

var encoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// ErrMalformed is returned by Parse for text that is not a key.
var ErrMalformed = errors.New("agentkey: not a wdai_ key")

// Key is a parsed key. Secret must never be stored or logged.
type Key struct {
	ID     string // the public prefix, 8 lower-case base32 characters
	Secret string
}

// Generate returns a new random key.
func Generate() (Key, error) {
	buf := make([]byte, idBytes+secretBytes)
	if _, err := rand.Read(buf); err != nil {
		return Key{}, err
	}
	return Key{ID: strings.ToLower(encoding.EncodeToString(buf[:idBytes])), Secret: strings.ToLower(encoding.EncodeToString(buf[idBytes:]))}, nil
}

// String is the plaintext the holder sends: wdai_<prefix>_<secret>.
func (k Key) String() string { return Prefix + k.ID + "_" + k.Secret }

// Hash is the SHA-256 of the secret: what is stored. The secret is 160
// random bits, so a fast hash is enough (nothing to guess from a dictionary).
func (k Key) Hash() []byte {
	sum := sha256.Sum256([]byte(k.Secret))
	return sum[:]
}

// Matches compares the key's hash with a stored one in constant time.
func (k Key) Matches(stored []byte) bool {
	return subtle.ConstantTimeCompare(k.Hash(), stored) == 1
}

// Looks reports whether s has the shape of a key (its prefix), without
// checking the rest: a bearer token that Looks is answered as a key.
func Looks(s string) bool { return strings.HasPrefix(s, Prefix) }

// Parse splits a key into its prefix and secret, checking their lengths and
// alphabet (so that a look-up is never made with arbitrary text).
func Parse(s string) (Key, error) {
	rest, ok := strings.CutPrefix(s, Prefix)
	if !ok {
		return Key{}, ErrMalformed
	}
	id, secret, ok := strings.Cut(rest, "_")
	if !ok || len(id) != 8 || len(secret) != 32 || !base32Lower(id) || !base32Lower(secret) {
		return Key{}, ErrMalformed
	}
	return Key{ID: id, Secret: secret}, nil
}

func base32Lower(s string) bool {
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}
