package gen

import (
	"math"
	"math/rand/v2"
)

// rng is the generator's random source. It draws everything from PCG's raw
// Uint64 and derives floats, ranges and choices itself, because the Go
// release promises a stable stream only for the sources, not for the
// helper methods of rand.Rand; the output of a seed must not change with
// the toolchain.
type rng struct {
	p rand.PCG
}

// mix64 is the splitmix64 finaliser. It is a bijection on uint64, which is
// what makes the identifiers built from it unique without bookkeeping.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// Stream salts: each person has independent streams for the journey and
// for the injected noise, so that switching duplicates or invalid events on
// leaves every valid event exactly as it was.
const (
	saltJourney = 0x6a09e667f3bcc908
	saltNoise   = 0xbb67ae8584caa73b
	saltUser    = 0x3c6ef372fe94f82b
	saltLoyalty = 0xa54ff53a5f1d36f1
	saltGroup   = 0x510e527fade682d1
)

// seed positions r at the start of person i's stream for salt.
func (r *rng) seed(seed int64, salt uint64, i int64) {
	s := mix64(uint64(seed) ^ salt)
	r.p.Seed(mix64(s+uint64(i)), mix64(s^mix64(uint64(i)+salt)))
}

func (r *rng) u64() uint64 { return r.p.Uint64() }

// float returns a uniform value in [0, 1).
func (r *rng) float() float64 { return float64(r.u64()>>11) * (1.0 / (1 << 53)) }

// intn returns a uniform value in [0, n) for 0 < n < 2³².
func (r *rng) intn(n int) int {
	return int(((r.u64() >> 32) * uint64(n)) >> 32)
}

// chance is true with probability p.
func (r *rng) chance(p float64) bool { return r.float() < p }

// between returns a uniform int64 in [lo, hi).
func (r *rng) between(lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + int64(r.u64()%uint64(hi-lo))
}

// exp returns an exponentially distributed value with the given mean.
func (r *rng) exp(mean float64) float64 { return -math.Log(1-r.float()) * mean }

// geom returns the number of successes before the first failure when each
// trial succeeds with probability p, capped at max.
func (r *rng) geom(p float64, max int) int {
	n := 0
	for n < max && r.chance(p) {
		n++
	}
	return n
}

// pick returns an index drawn with the given cumulative weights (the last
// one is the total).
func (r *rng) pick(cum []float64) int {
	x := r.float() * cum[len(cum)-1]
	for i, c := range cum {
		if x < c {
			return i
		}
	}
	return len(cum) - 1
}

// cumulative turns weights into the table pick wants.
func cumulative(w ...float64) []float64 {
	out := make([]float64, len(w))
	s := 0.0
	for i, x := range w {
		s += x
		out[i] = s
	}
	return out
}

// uuid draws a version-4 UUID in its text form.
func (r *rng) uuid(b []byte) []byte {
	hi, lo := r.u64(), r.u64()
	hi = hi&^(0xf<<12) | 0x4<<12 // version 4
	lo = lo&^(0x3<<62) | 0x2<<62 // RFC 4122 variant
	var raw [16]byte
	for i := 0; i < 8; i++ {
		raw[i] = byte(hi >> (56 - 8*i))
		raw[8+i] = byte(lo >> (56 - 8*i))
	}
	return appendUUID(b, raw)
}

const hexDigits = "0123456789abcdef"

func appendUUID(b []byte, raw [16]byte) []byte {
	for i, x := range raw {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexDigits[x>>4], hexDigits[x&0xf])
	}
	return b
}

// appendHex appends x as 16 lower-case hex digits.
func appendHex(b []byte, x uint64) []byte {
	for s := 60; s >= 0; s -= 4 {
		b = append(b, hexDigits[(x>>uint(s))&0xf])
	}
	return b
}
