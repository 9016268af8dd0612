package gen_test

import (
	"testing"

	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/gen"
)

func TestParseEffects(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want gen.Effects
		err  bool
	}{
		{in: "", want: gen.Effects{}},
		{in: "none", want: gen.Effects{}},
		{in: "checkout-fails-on=android", want: gen.Effects{CheckoutFailsOn: "android"}},
		{in: "checkout-fails-on=android,better-channel=email,call-loop", want: allEffects},
		{in: " call-loop , better-channel=referral ", want: gen.Effects{BetterChannel: "referral", CallLoopBeforeChurn: true}},
		{in: "call-loop=true", want: gen.Effects{CallLoopBeforeChurn: true}},
		{in: "call-loop=false", want: gen.Effects{}},
		{in: "checkout-fails-on=windows", err: true},
		{in: "checkout-fails-on", err: true},
		{in: "better-channel=tv", err: true},
		{in: "better-channel=direct", err: true},
		{in: "call-loop=maybe", err: true},
		{in: "call-loop,call-loop", err: true},
		{in: "faster-site", err: true},
		{in: "checkout-fails-on=ios,", err: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := gen.ParseEffects(tc.in)
			if tc.err {
				if fault.CodeOf(err) != fault.Invalid {
					t.Fatalf("got %+v, %v; want an invalid error", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
			// String renders what ParseEffects reads back.
			back, err := gen.ParseEffects(got.String())
			if err != nil || back != got {
				t.Fatalf("String() = %q reads back as %+v, %v", got.String(), back, err)
			}
		})
	}
}

// FuzzParseEffects: whatever the flag says, ParseEffects never panics, and
// what it accepts renders and reads back to itself and is a configuration
// the generator takes.
func FuzzParseEffects(f *testing.F) {
	for _, s := range []string{"", "call-loop", "checkout-fails-on=android,better-channel=email,call-loop", "better-channel=", "=,=", "call-loop=false,call-loop"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := gen.ParseEffects(s)
		if err != nil {
			if fault.CodeOf(err) != fault.Invalid {
				t.Fatalf("%q: error %v is not invalid input", s, err)
			}
			return
		}
		back, err := gen.ParseEffects(e.String())
		if err != nil || back != e {
			t.Fatalf("%q → %+v → %q → %+v, %v", s, e, e.String(), back, err)
		}
		if _, err := gen.WriteNDJSON(t.Context(), gen.Config{Customers: 1, Effects: e}, &countingWriter{}); err != nil {
			t.Fatalf("%q: accepted effects refused by the generator: %v", s, err)
		}
	})
}
