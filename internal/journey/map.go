// Package journey holds the journey-map document: maps, stages, steps, lanes,
// touchpoints, bindings and personas, their validation, the diff between two
// versions, and the built-in template library. It knows nothing of storage or
// transport; adapters persist and serve what it defines.
package journey

import "time"

// Kind is the kind of a map.
type Kind string

const (
	CurrentState     Kind = "current_state"
	FutureState      Kind = "future_state"
	DayInTheLife     Kind = "day_in_the_life"
	ServiceBlueprint Kind = "service_blueprint"
)

// Kinds lists every map kind in display order.
var Kinds = []Kind{CurrentState, FutureState, DayInTheLife, ServiceBlueprint}

// Channels are the channels a touchpoint (and later an event source) can be on.
var Channels = []string{"web", "mobile", "call_centre", "store", "email", "social", "ads", "chat", "partner", "crm", "other"}

// LaneKind says what a lane of a map holds.
type LaneKind string

// The built-in lanes. Each has its own field on Step; custom lanes keep their
// content in Step.Custom under the lane's id.
const (
	LaneActions       LaneKind = "actions"
	LaneTouchpoints   LaneKind = "touchpoints"
	LaneThoughts      LaneKind = "thoughts"
	LaneEmotions      LaneKind = "emotions"
	LanePainPoints    LaneKind = "pain_points"
	LaneOpportunities LaneKind = "opportunities"
	LaneFrontstage    LaneKind = "frontstage"
	LaneBackstage     LaneKind = "backstage"
	LaneSupport       LaneKind = "support"
	LanePolicies      LaneKind = "policies"
	LaneTechnology    LaneKind = "technology"
	LaneCustom        LaneKind = "custom"
)

// LaneKinds lists the lane kinds in their usual top-to-bottom order.
var LaneKinds = []LaneKind{LaneActions, LaneTouchpoints, LaneThoughts, LaneEmotions, LanePainPoints,
	LaneOpportunities, LaneFrontstage, LaneBackstage, LaneSupport, LanePolicies, LaneTechnology, LaneCustom}

// Map is a journey map document. ID, Version and the audit fields are set by
// the store; everything else is the user's.
type Map struct {
	ID          string   `json:"id,omitempty"`
	Name        string   `json:"name"`
	Kind        Kind     `json:"kind"`
	Description string   `json:"description,omitempty"`
	Goal        string   `json:"goal,omitempty"`
	PersonaIDs  []string `json:"personaIds,omitempty"`
	Locale      string   `json:"locale,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	// Lanes is the ordered list of rows the map shows. Built-in lanes may be
	// renamed, reordered or left out; custom lanes hold free content.
	Lanes  []Lane  `json:"lanes,omitempty"`
	Stages []Stage `json:"stages"`

	Version   int       `json:"version,omitempty"`
	CreatedAt time.Time `json:"createdAt,omitzero"`
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
	UpdatedBy string    `json:"updatedBy,omitempty"`
}

// Lane is a row of a map.
type Lane struct {
	ID   string   `json:"id"`
	Kind LaneKind `json:"kind"`
	Name string   `json:"name,omitempty"`
}

// Stage is a column of a map.
type Stage struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Steps       []Step `json:"steps"`
}

// Step is one thing the customer does inside a stage.
type Step struct {
	ID            string       `json:"id"`
	Name          string       `json:"name"`
	Description   string       `json:"description,omitempty"`
	Touchpoints   []Touchpoint `json:"touchpoints,omitempty"`
	Actions       []string     `json:"actions,omitempty"`
	Thoughts      []string     `json:"thoughts,omitempty"`
	Emotion       *Emotion     `json:"emotion,omitempty"`
	PainPoints    []string     `json:"painPoints,omitempty"`
	Opportunities []string     `json:"opportunities,omitempty"`
	Frontstage    []string     `json:"frontstage,omitempty"`
	Backstage     []string     `json:"backstage,omitempty"`
	Support       []string     `json:"support,omitempty"`
	Policies      []string     `json:"policies,omitempty"`
	Technology    []string     `json:"technology,omitempty"`
	// Custom holds the content of custom lanes, keyed by lane id.
	Custom map[string][]string `json:"custom,omitempty"`
	// Binding says which events show that this step happened.
	Binding *Binding `json:"binding,omitempty"`
	// DetailMapID links to another map that details this step, so a
	// lifecycle map's steps open their detail journeys.
	DetailMapID string `json:"detailMapId,omitempty"`
}

// Touchpoint is where a step happens.
type Touchpoint struct {
	Channel string `json:"channel"`
	Name    string `json:"name"`
}

// Emotion is how the persona feels at a step, from -2 (very negative) to +2.
type Emotion struct {
	Score int    `json:"score"`
	Note  string `json:"note,omitempty"`
}

// Binding is a matcher on events: any of Events, on Channel if set, with
// every filter in Where true.
type Binding struct {
	Events  []string `json:"events"`
	Where   []Filter `json:"where,omitempty"`
	Channel string   `json:"channel,omitempty"`
}

// Op is a comparison used by a property filter.
type Op string

// Filter operators.
const (
	OpEq          Op = "eq"
	OpNeq         Op = "neq"
	OpContains    Op = "contains"
	OpNotContains Op = "not_contains"
	OpGt          Op = "gt"
	OpGte         Op = "gte"
	OpLt          Op = "lt"
	OpLte         Op = "lte"
	OpIn          Op = "in"
	OpNotIn       Op = "not_in"
	OpExists      Op = "exists"
	OpNotExists   Op = "not_exists"
)

// Ops lists every filter operator.
var Ops = []Op{OpEq, OpNeq, OpContains, OpNotContains, OpGt, OpGte, OpLt, OpLte, OpIn, OpNotIn, OpExists, OpNotExists}

// Filter is one condition on an event property.
type Filter struct {
	Property string `json:"property"`
	Op       Op     `json:"op"`
	Value    any    `json:"value,omitempty"`
}

// Persona is an archetype a map is drawn for.
type Persona struct {
	ID           string            `json:"id,omitempty"`
	Name         string            `json:"name"`
	PhotoURL     string            `json:"photoUrl,omitempty"`
	Role         string            `json:"role,omitempty"`
	Demographics map[string]string `json:"demographics,omitempty"`
	Goals        []string          `json:"goals,omitempty"`
	Needs        []string          `json:"needs,omitempty"`
	Frustrations []string          `json:"frustrations,omitempty"`
	Motivations  []string          `json:"motivations,omitempty"`
	Quote        string            `json:"quote,omitempty"`
	Channels     []string          `json:"channels,omitempty"`
	Locale       string            `json:"locale,omitempty"`

	CreatedAt time.Time `json:"createdAt,omitzero"`
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
}
