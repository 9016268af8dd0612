package gen

// rec is one generated call before it is written out, kept small and free
// of maps so that generating to NDJSON allocates almost nothing per event;
// Generate turns it into an event.Event only at the end.
type rec struct {
	t    int64 // the event's true time (ms since the epoch): what a collector computes after skew correction
	raw  int64 // timestamp as the sender writes it, on its own clock
	sent int64 // sentAt as the sender writes it; 0 when it sends none
	recv int64 // when the collector received it
	key  uint64
	p0   int32 // properties (traits for identify and group) are kvs[p0:p1]
	p1   int32
	msg  [16]byte
	name string // page or screen name
	camp *campaign

	typ     uint8 // tTrack, tIdentify…
	act     uint8 // activity index (activityNames)
	ch      uint8 // channel index
	user    uint8 // which of the person's userIds it carries
	prev    uint8 // alias previousId
	dev     int8  // device index, -1 for server-side events
	invalid uint8 // why it is invalid; 0 for a valid event
	group   bool
	// score and step are kept for surveys, so the truth can be summed
	// without reading the properties back.
	score int8
	step  uint8
}

// Which userId a record carries.
const (
	idNone uint8 = iota
	idUser
	idLoyalty
)

// Kinds of injected invalid events, as the truth file names them.
const (
	invNone uint8 = iota
	invNoIdentifier
	invNoEventName
	invFutureTimestamp
	nInvalid
)

var invalidNames = [nInvalid]string{"", "no_identifier", "no_event_name", "future_timestamp"}

// Kinds of property values.
const (
	kStr uint8 = iota
	kInt
	kMoney // a float written with the currency's decimals (n)
	kBool
	kID       // s followed by n as 16 hex digits
	kTime     // n ms since the epoch, written as an ISO-8601 string
	kProducts // prods[n>>32 : n&0xffffffff]
)

type kv struct {
	key  string
	s    string
	n    int64
	f    float64
	kind uint8
}

// prodLine is one product in a cart or an order.
type prodLine struct {
	prod  int32
	qty   int32
	price float64 // in the order's currency
}

// Survey steps, for the emotion curve and CSAT per step.
const (
	stepNone uint8 = iota
	stepSearch
	stepCheckout
	stepDelivery
	stepReturn
	stepCall
	nSteps
)

var stepNames = [nSteps]string{"", "search", "checkout", "delivery", "return", "call"}

// stepEvents is the event each survey step asks about.
var stepEvents = [nSteps]uint8{nPageViewed, nProductsSearched, nCheckoutStarted, nOrderDelivered, nOrderRefunded, nCallStarted}
