package journey

import (
	"crypto/rand"
	"strings"
)

// DefaultLanes returns the lanes a new map of kind k shows.
func DefaultLanes(k Kind) []Lane {
	kinds := []LaneKind{LaneActions, LaneTouchpoints, LaneThoughts, LaneEmotions, LanePainPoints, LaneOpportunities}
	if k == ServiceBlueprint {
		kinds = append(kinds, LaneFrontstage, LaneBackstage, LaneSupport, LanePolicies, LaneTechnology)
	}
	lanes := make([]Lane, len(kinds))
	for i, lk := range kinds {
		lanes[i] = Lane{ID: string(lk), Kind: lk}
	}
	return lanes
}

// Normalize fills what a client may leave out so that every stored map is
// complete: missing stage, step and lane ids are generated, a map without
// lanes gets its kind's default lanes, names are trimmed, and empty lists are
// dropped. It never changes what the user wrote beyond that.
func Normalize(m *Map) {
	m.Name = strings.TrimSpace(m.Name)
	if len(m.Lanes) == 0 {
		m.Lanes = DefaultLanes(m.Kind)
	}
	for i := range m.Lanes {
		if m.Lanes[i].ID == "" {
			m.Lanes[i].ID = NewID("ln")
		}
	}
	if m.Stages == nil {
		m.Stages = []Stage{}
	}
	for i := range m.Stages {
		s := &m.Stages[i]
		if s.ID == "" {
			s.ID = NewID("sg")
		}
		s.Name = strings.TrimSpace(s.Name)
		if s.Steps == nil {
			s.Steps = []Step{}
		}
		for j := range s.Steps {
			st := &s.Steps[j]
			if st.ID == "" {
				st.ID = NewID("sp")
			}
			st.Name = strings.TrimSpace(st.Name)
			for k, v := range st.Custom {
				if len(v) == 0 {
					delete(st.Custom, k)
				}
			}
			if len(st.Custom) == 0 {
				st.Custom = nil
			}
		}
	}
}

const idAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

// NewID returns prefix + "_" + 12 random base-36 characters: short enough to
// read in a URL, with 62 bits of randomness so ids never collide in practice.
func NewID(prefix string) string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return prefix + "_" + string(b[:])
}
