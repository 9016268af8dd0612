package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestPasswordsHashAndCheck(t *testing.T) {
	h, err := HashPassword("Mật khẩu dài ơi")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$") {
		t.Errorf("hash %q is not argon2id PHC", h)
	}
	if err := CheckPassword(h, "Mật khẩu dài ơi"); err != nil {
		t.Errorf("right password refused: %v", err)
	}
	if err := CheckPassword(h, "Mật khẩu dài ơ"); !errors.Is(err, ErrMismatch) {
		t.Errorf("wrong password: %v", err)
	}
	h2, _ := HashPassword("Mật khẩu dài ơi")
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
}

func TestShortAndHugePasswordsAreRefused(t *testing.T) {
	for _, pw := range []string{"", "short", strings.Repeat("x", 1025)} {
		if _, err := HashPassword(pw); err == nil {
			t.Errorf("password of %d bytes accepted", len(pw))
		}
	}
}

func TestRolesAreOrdered(t *testing.T) {
	cases := []struct {
		have, need Role
		ok         bool
	}{
		{Viewer, Viewer, true}, {Viewer, Editor, false}, {Viewer, Admin, false},
		{Editor, Viewer, true}, {Editor, Editor, true}, {Editor, Admin, false},
		{Admin, Viewer, true}, {Admin, Admin, true}, {"", Viewer, false}, {"owner", Viewer, false},
	}
	for _, c := range cases {
		if got := c.have.Allows(c.need); got != c.ok {
			t.Errorf("%q allows %q = %v", c.have, c.need, got)
		}
	}
	if _, err := ParseRole(" Editor "); err != nil {
		t.Error(err)
	}
	if _, err := ParseRole("root"); err == nil {
		t.Error("root accepted")
	}
}

func TestSecretsAreRandomAndHashedStably(t *testing.T) {
	a, ha := NewSecret(TokenPrefix)
	b, hb := NewSecret(TokenPrefix)
	if a == b || ha == hb || !strings.HasPrefix(a, TokenPrefix) {
		t.Errorf("secrets %q %q", a, b)
	}
	if HashSecret(a) != ha || strings.Contains(ha, a) {
		t.Error("hash not stable or reveals the secret")
	}
}

// FuzzCheckPassword parses arbitrary stored hashes: never a panic, and never
// a match for a hash that was not made from the password.
func FuzzCheckPassword(f *testing.F) {
	f.Add("$argon2id$v=19$m=16,t=1,p=1$c2FsdHNhbHQ$aGFzaA", "pw")
	f.Add("$argon2id$v=19$m=0,t=0,p=0$$", "")
	f.Add("plain", "plain")
	f.Fuzz(func(t *testing.T, encoded, pw string) {
		// Keep the fuzzer from asking argon2 for gigabytes.
		if strings.Contains(encoded, "m=") && !strings.Contains(encoded, "m=1,") && !strings.Contains(encoded, "m=8,") {
			return
		}
		if err := CheckPassword(encoded, pw); err == nil {
			t.Fatalf("%q matched %q", encoded, pw)
		}
	})
}
