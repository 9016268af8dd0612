// Package auth holds trek's access rules: roles and what they allow,
// password hashing, and the secrets behind bearer tokens and browser
// sessions. It stores nothing itself; the metadata store keeps only hashes.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Role is what a user or token may do in one workspace.
type Role string

// Roles, from least to most privileged.
const (
	Viewer Role = "viewer" // read maps, personas and analytics
	Editor Role = "editor" // change maps, personas and bindings
	Admin  Role = "admin"  // members, tokens, sources, erasure
)

var rank = map[Role]int{Viewer: 1, Editor: 2, Admin: 3}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return rank[r] > 0 }

// Allows reports whether r is at least need.
func (r Role) Allows(need Role) bool { return r.Valid() && rank[r] >= rank[need] }

// ParseRole parses a role name.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !r.Valid() {
		return "", fmt.Errorf("unknown role %q: want viewer, editor or admin", s)
	}
	return r, nil
}

// argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes) is
// too weak for a server that may sit on the internet for years; 64 MiB and 3
// passes cost about 100 ms on a 2-core machine, paid once per login.
const (
	argonTime    = 3
	argonMemory  = 64 * 1024
	argonThreads = 2
	argonKeyLen  = 32
	saltLen      = 16
)

// MinPasswordLen is the shortest password trek accepts.
const MinPasswordLen = 10

// ErrMismatch is returned by CheckPassword for a wrong password.
var ErrMismatch = errors.New("password does not match")

// HashPassword returns an encoded argon2id hash of pw in the PHC string
// format, which carries its own parameters so they can be raised later.
func HashPassword(pw string) (string, error) {
	if len(pw) < MinPasswordLen {
		return "", fmt.Errorf("password is shorter than %d characters", MinPasswordLen)
	}
	if len(pw) > 1024 {
		return "", errors.New("password is longer than 1024 bytes")
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword compares pw with an encoded hash in constant time.
func CheckPassword(encoded, pw string) error {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return errors.New("unknown password hash format")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return errors.New("unsupported argon2 version")
	}
	var mem, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &t, &p); err != nil {
		return fmt.Errorf("parse argon2 parameters: %w", err)
	}
	// A damaged or hostile stored hash must not make argon2 panic or
	// allocate without bound.
	if t < 1 || t > 16 || p < 1 || p > 16 || mem < 8*uint32(p) || mem > 1<<20 {
		return errors.New("argon2 parameters out of range")
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return fmt.Errorf("decode salt: %w", err)
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return fmt.Errorf("decode hash: %w", err)
	}
	if len(want) < 16 || len(want) > 64 {
		return errors.New("argon2 key length out of range")
	}
	got := argon2.IDKey([]byte(pw), salt, t, mem, p, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}

// Secret prefixes make leaked credentials recognisable by secret scanners.
const (
	TokenPrefix   = "trek_pat_"
	SessionPrefix = "trek_ses_"
)

// NewSecret returns a random credential with the given prefix (256 bits of
// entropy) and the hash under which it is stored.
func NewSecret(prefix string) (secret, hash string) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	secret = prefix + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashSecret(secret)
}

// HashSecret is the stored form of a token or session secret. A fast hash is
// right here: the secret has 256 random bits, so there is nothing to brute
// force, and every request must look it up.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// GeneratePassword returns a random password for the first admin.
func GeneratePassword() string {
	var b [18]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}
