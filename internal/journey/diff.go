package journey

import (
	"encoding/json"
	"fmt"
	"slices"
)

// ChangeOp says what happened to an element between two versions of a map.
type ChangeOp string

const (
	Added   ChangeOp = "added"
	Removed ChangeOp = "removed"
	Changed ChangeOp = "changed"
	Moved   ChangeOp = "moved"
)

// ChangeKind names the element a Change is about.
type ChangeKind string

const (
	ChangeMap   ChangeKind = "map"
	ChangeLane  ChangeKind = "lane"
	ChangeStage ChangeKind = "stage"
	ChangeStep  ChangeKind = "step"
)

// Change is one difference between two versions of a map.
//
// From and To are always present in JSON so that a client reads one shape:
// for "added" From is null and To is the whole element; for "removed" From
// is the element and To is null; for "changed" they are the old and new value
// of Field; for "moved" they are Positions.
type Change struct {
	Op   ChangeOp   `json:"op"`
	Kind ChangeKind `json:"kind"`
	// ID is the lane, stage or step id; empty for the map itself.
	ID string `json:"id"`
	// StageID is, for steps, the stage the step is in: in the newer version,
	// or in the older one when the step was removed.
	StageID string `json:"stageId,omitempty"`
	Name    string `json:"name,omitempty"`
	// Field is the JSON name of the changed field, e.g. "painPoints" or
	// "custom.<laneId>".
	Field string `json:"field,omitempty"`
	// Path locates the element (or field) in the newer version, or in the
	// older one when it was removed, e.g. "stages[1].steps[0].name".
	Path string `json:"path"`
	From any    `json:"from"`
	To   any    `json:"to"`
}

// Position is where a moved element was or is. StageID is set for steps only.
type Position struct {
	StageID string `json:"stageId,omitempty"`
	Index   int    `json:"index"`
}

// Diff reports what changed from one version of a map to another. Lanes,
// stages and steps are matched by id, so a renamed stage is "changed", not
// removed and added. A step that changed stage, and a stage, step or lane
// whose order relative to its surviving siblings changed, is "moved"; the
// siblings merely shifted by an insertion or a removal are not.
//
// The output is ordered for reading top to bottom: map fields, lanes, then
// stages in the newer order, each followed by its steps, with removed
// elements where they used to be. Ids are expected to be unique, as Validate
// ensures; duplicates do not make Diff fail, but are matched to their first
// occurrence. A nil map is read as an empty one, so Diff(nil, m) lists m.
func Diff(from, to *Map) []Change {
	if from == nil {
		from = &Map{}
	}
	if to == nil {
		to = &Map{}
	}
	d := differ{out: []Change{}}
	d.mapFields(from, to)
	d.lanes(from.Lanes, to.Lanes)
	d.stages(from, to)
	return d.out
}

type differ struct{ out []Change }

func (d *differ) add(c Change) { d.out = append(d.out, c) }

func (d *differ) mapFields(from, to *Map) {
	field := func(name string, a, b any) {
		if !same(a, b) {
			d.add(Change{Op: Changed, Kind: ChangeMap, Name: to.Name, Field: name, Path: name, From: a, To: b})
		}
	}
	field("name", from.Name, to.Name)
	field("kind", from.Kind, to.Kind)
	field("description", from.Description, to.Description)
	field("goal", from.Goal, to.Goal)
	field("personaIds", list(from.PersonaIDs), list(to.PersonaIDs))
	field("locale", from.Locale, to.Locale)
	field("tags", list(from.Tags), list(to.Tags))
}

func (d *differ) lanes(from, to []Lane) {
	fromAt := indexByID(len(from), func(i int) string { return from[i].ID })
	toAt := indexByID(len(to), func(i int) string { return to[i].ID })
	stable := keptInOrder(len(to), func(i int) (int, bool) {
		j, ok := fromAt[to[i].ID]
		return j, ok
	})
	removedAfter := anchorRemovals(len(from), func(i int) bool {
		_, ok := toAt[from[i].ID]
		return ok
	})
	removed := func(anchor int) {
		for _, i := range removedAfter[anchor] {
			l := from[i]
			d.add(Change{Op: Removed, Kind: ChangeLane, ID: l.ID, Name: l.Name, Path: fmt.Sprintf("lanes[%d]", i), From: l})
		}
		delete(removedAfter, anchor) // a duplicated id must not report them twice
	}
	removed(-1)
	for i, l := range to {
		p := fmt.Sprintf("lanes[%d]", i)
		j, ok := fromAt[l.ID]
		if !ok {
			d.add(Change{Op: Added, Kind: ChangeLane, ID: l.ID, Name: l.Name, Path: p, To: l})
			continue
		}
		if !stable[i] {
			d.add(Change{Op: Moved, Kind: ChangeLane, ID: l.ID, Name: l.Name, Path: p, From: Position{Index: j}, To: Position{Index: i}})
		}
		old := from[j]
		if old.Name != l.Name {
			d.add(Change{Op: Changed, Kind: ChangeLane, ID: l.ID, Name: l.Name, Field: "name", Path: p + ".name", From: old.Name, To: l.Name})
		}
		if old.Kind != l.Kind {
			d.add(Change{Op: Changed, Kind: ChangeLane, ID: l.ID, Name: l.Name, Field: "kind", Path: p + ".kind", From: old.Kind, To: l.Kind})
		}
		removed(j)
	}
}

// stepAt locates a step in one version of a map.
type stepAt struct {
	stage, step int
	stageID     string
}

func stepIndex(m *Map) map[string]stepAt {
	at := map[string]stepAt{}
	for i, s := range m.Stages {
		for j, st := range s.Steps {
			if _, dup := at[st.ID]; !dup {
				at[st.ID] = stepAt{stage: i, step: j, stageID: s.ID}
			}
		}
	}
	return at
}

func (d *differ) stages(from, to *Map) {
	fromAt := indexByID(len(from.Stages), func(i int) string { return from.Stages[i].ID })
	toAt := indexByID(len(to.Stages), func(i int) string { return to.Stages[i].ID })
	fromSteps, toSteps := stepIndex(from), stepIndex(to)
	stable := keptInOrder(len(to.Stages), func(i int) (int, bool) {
		j, ok := fromAt[to.Stages[i].ID]
		return j, ok
	})
	removedAfter := anchorRemovals(len(from.Stages), func(i int) bool {
		_, ok := toAt[from.Stages[i].ID]
		return ok
	})
	removed := func(anchor int) {
		for _, i := range removedAfter[anchor] {
			s := &from.Stages[i]
			p := fmt.Sprintf("stages[%d]", i)
			d.add(Change{Op: Removed, Kind: ChangeStage, ID: s.ID, Name: s.Name, Path: p, From: *s})
			// Its steps that went to another stage are reported there as
			// moved; only the ones that are gone are listed here.
			for j, st := range s.Steps {
				if _, kept := toSteps[st.ID]; !kept {
					d.add(removedStep(s.ID, fmt.Sprintf("%s.steps[%d]", p, j), st))
				}
			}
		}
		delete(removedAfter, anchor) // a duplicated id must not report them twice
	}
	removed(-1)
	for i := range to.Stages {
		s := &to.Stages[i]
		p := fmt.Sprintf("stages[%d]", i)
		oi, ok := fromAt[s.ID]
		if !ok {
			oi = -1
			d.add(Change{Op: Added, Kind: ChangeStage, ID: s.ID, Name: s.Name, Path: p, To: *s})
		} else {
			old := &from.Stages[oi]
			if !stable[i] {
				d.add(Change{Op: Moved, Kind: ChangeStage, ID: s.ID, Name: s.Name, Path: p, From: Position{Index: oi}, To: Position{Index: i}})
			}
			if old.Name != s.Name {
				d.add(Change{Op: Changed, Kind: ChangeStage, ID: s.ID, Name: s.Name, Field: "name", Path: p + ".name", From: old.Name, To: s.Name})
			}
			if old.Description != s.Description {
				d.add(Change{Op: Changed, Kind: ChangeStage, ID: s.ID, Name: s.Name, Field: "description", Path: p + ".description", From: old.Description, To: s.Description})
			}
		}
		d.steps(from, oi, s, i, fromSteps, toSteps)
		if ok {
			removed(oi)
		}
	}
}

// steps reports the steps of stage s, at index si in the newer map; oi is the
// index of the same stage in from, or -1 when the stage is new.
func (d *differ) steps(from *Map, oi int, s *Stage, si int, fromSteps, toSteps map[string]stepAt) {
	var old *Stage
	if oi >= 0 {
		old = &from.Stages[oi]
	}
	// Only steps that stayed in this stage have a relative order to keep;
	// the others changed stage and are moved whatever their index.
	stable := keptInOrder(len(s.Steps), func(j int) (int, bool) {
		at, ok := fromSteps[s.Steps[j].ID]
		return at.step, ok && old != nil && at.stageID == s.ID
	})
	var removedAfter map[int][]int
	if old != nil {
		removedAfter = anchorRemovals(len(old.Steps), func(j int) bool {
			at, ok := toSteps[old.Steps[j].ID]
			return ok && at.stageID == s.ID
		})
	}
	removed := func(anchor int) {
		for _, j := range removedAfter[anchor] {
			st := old.Steps[j]
			if _, kept := toSteps[st.ID]; kept {
				continue // moved to another stage: reported there
			}
			d.add(removedStep(old.ID, fmt.Sprintf("stages[%d].steps[%d]", oi, j), st))
		}
		delete(removedAfter, anchor) // a duplicated id must not report them twice
	}
	removed(-1)
	for j := range s.Steps {
		st := &s.Steps[j]
		p := fmt.Sprintf("stages[%d].steps[%d]", si, j)
		at, ok := fromSteps[st.ID]
		if !ok {
			d.add(Change{Op: Added, Kind: ChangeStep, ID: st.ID, StageID: s.ID, Name: st.Name, Path: p, To: *st})
			continue
		}
		if !stable[j] {
			d.add(Change{Op: Moved, Kind: ChangeStep, ID: st.ID, StageID: s.ID, Name: st.Name, Path: p,
				From: Position{StageID: at.stageID, Index: at.step}, To: Position{StageID: s.ID, Index: j}})
		}
		d.stepFields(s.ID, p, &from.Stages[at.stage].Steps[at.step], st)
		if at.stageID == s.ID {
			removed(at.step)
		}
	}
}

func removedStep(stageID, path string, st Step) Change {
	return Change{Op: Removed, Kind: ChangeStep, ID: st.ID, StageID: stageID, Name: st.Name, Path: path, From: st}
}

func (d *differ) stepFields(stageID, p string, a, b *Step) {
	field := func(name string, x, y any) {
		if !same(x, y) {
			d.add(Change{Op: Changed, Kind: ChangeStep, ID: b.ID, StageID: stageID, Name: b.Name, Field: name, Path: p + "." + name, From: x, To: y})
		}
	}
	field("name", a.Name, b.Name)
	field("description", a.Description, b.Description)
	field("touchpoints", touchpoints(a.Touchpoints), touchpoints(b.Touchpoints))
	field("actions", list(a.Actions), list(b.Actions))
	field("thoughts", list(a.Thoughts), list(b.Thoughts))
	field("emotion", a.Emotion, b.Emotion)
	field("painPoints", list(a.PainPoints), list(b.PainPoints))
	field("opportunities", list(a.Opportunities), list(b.Opportunities))
	field("frontstage", list(a.Frontstage), list(b.Frontstage))
	field("backstage", list(a.Backstage), list(b.Backstage))
	field("support", list(a.Support), list(b.Support))
	field("policies", list(a.Policies), list(b.Policies))
	field("technology", list(a.Technology), list(b.Technology))
	keys := append(sortedKeys(a.Custom), sortedKeys(b.Custom)...)
	slices.Sort(keys)
	for _, k := range slices.Compact(keys) {
		field("custom."+k, list(a.Custom[k]), list(b.Custom[k]))
	}
	field("binding", a.Binding, b.Binding)
	field("detailMapId", a.DetailMapID, b.DetailMapID)
}

// list makes a missing list and an empty one the same value, so that a
// client that drops an empty field does not show as a change, and a change
// to an emptied list reads [] rather than null.
func list(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func touchpoints(s []Touchpoint) []Touchpoint {
	if s == nil {
		return []Touchpoint{}
	}
	return s
}

// same compares two field values as their JSON: Filter values are untyped
// (float64, string, []any) and a document round-tripped through JSON must
// compare equal to the one it came from.
func same(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

func indexByID(n int, id func(int) string) map[string]int {
	at := make(map[string]int, n)
	for i := range n {
		if _, dup := at[id(i)]; !dup {
			at[id(i)] = i
		}
	}
	return at
}

// keptInOrder returns, for each of n elements of the newer list, whether it
// kept its place: it is common to both lists and belongs to a longest run of
// common elements whose older indices increase. Everything else that is
// common was moved. oldIndex gives an element's index in the older list and
// whether it takes part in the comparison at all.
//
// Taking the longest increasing subsequence is what makes one insertion or
// removal report nothing about the siblings it shifted, and one element
// dragged elsewhere report only that element.
func keptInOrder(n int, oldIndex func(int) (int, bool)) []bool {
	var seq, pos []int // older indices of the common elements, and where they are in the newer list
	for i := range n {
		if j, ok := oldIndex(i); ok {
			seq = append(seq, j)
			pos = append(pos, i)
		}
	}
	kept := make([]bool, n)
	for _, k := range lis(seq) {
		kept[pos[k]] = true
	}
	return kept
}

// lis returns the positions in seq of one longest strictly increasing
// subsequence (patience sorting, O(n log n)).
func lis(seq []int) []int {
	var tails []int // tails[l] = position of the smallest tail of a run of length l+1
	prev := make([]int, len(seq))
	for i, v := range seq {
		l, _ := slices.BinarySearchFunc(tails, v, func(t, v int) int { return seq[t] - v })
		if l > 0 {
			prev[i] = tails[l-1]
		} else {
			prev[i] = -1
		}
		if l == len(tails) {
			tails = append(tails, i)
		} else {
			tails[l] = i
		}
	}
	out := make([]int, len(tails))
	if len(tails) == 0 {
		return out
	}
	for k, i := len(tails)-1, tails[len(tails)-1]; k >= 0; k-- {
		out[k] = i
		i = prev[i]
	}
	return out
}

// anchorRemovals groups the removed elements of the older list (those for
// which kept is false) under the nearest kept element before them, or under
// -1 when none precedes them, so that each removal can be reported where it
// used to be.
func anchorRemovals(n int, kept func(int) bool) map[int][]int {
	out := map[int][]int{}
	anchor := -1
	for i := range n {
		if kept(i) {
			anchor = i
			continue
		}
		out[anchor] = append(out[anchor], i)
	}
	return out
}
