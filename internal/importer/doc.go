// Package importer turns files of historical events into event.Event values
// for bulk import: NDJSON in the Segment shape, CSV with a column mapping,
// and XES, the process-mining standard (IEEE 1849; XES 1.0 files too). It
// knows nothing of storage or HTTP: each reader streams the events it reads
// to a Sink, in file order, in memory that does not grow with the file.
//
// # Order
//
// Events reach the sink in the order they appear in the file, one call at a
// time from the calling goroutine. That order is the events' arrival order:
// a store that keeps ties on time in arrival order (as DESIGN.md's "Time
// order" asks) keeps them in file order.
//
// # Rejected input
//
// Input the reader cannot turn into an event (an NDJSON line that is not a
// Segment event, a CSV row without a customer, an XES event without a
// timestamp) is skipped and reported to Options.OnReject with its line
// number, the reason and the raw bytes, and counted in Stats.Rejected; it is
// never dropped silently. Every event must also pass the collection API's
// own rules, event.Validate with Options.Limits (names, identifiers,
// property keys, nesting, sizes, a timestamp at most a day in the future),
// so that an import stores nothing the API would have refused; the past
// bound does not apply, since an import is history. An event that breaks
// them is rejected with event.Validate's reason. Input that breaks the file's own syntax beyond
// one record (XML that is not well formed, a CSV header without a mapped
// column) ends the read with a *fault.Error of code Invalid whose message
// names the line.
//
// # messageId
//
// Every event gets a messageId derived from where it sits in the file and
// what it says, so that importing the same file twice into the same source
// stores each event once (the store deduplicates by source and messageId),
// while two distinct events never share one:
//
//   - NDJSON: the line's own messageId when it has one, else
//     "ndjson-" + hex(sha-256(source, line number, line bytes))[:32].
//   - CSV: "csv-" + hex(sha-256(source, line number, row fields))[:32].
//   - XES: "xes-" + hex(sha-256(source, trace concept:name, index of the
//     event in its trace, event concept:name, timestamp))[:32]. The trace id
//     rather than the trace's place in the file keeps the ids stable when a
//     tool rewrites the log with its traces in another order; the name and
//     time keep two traces that share an id (a broken export) from
//     colliding. The lifecycle transition is left out on purpose, so that
//     re-importing a log with and without XESOptions.WithLifecycle does not
//     store it twice.
//
// # XES mapping
//
//   - Each trace is one customer: the trace's concept:name (the case id) is
//     the event's UserID.
//   - Each event's concept:name is the event name. With
//     XESOptions.WithLifecycle it is concept:name + "+" +
//     lifecycle:transition ("W_Completeren aanvraag+START"), the joining
//     pm4py uses for its activity-plus-transition classifier, so that event
//     classes match pm4py's; an event without a transition keeps its bare
//     name.
//   - time:timestamp is the event time (an xs:dateTime; one without a zone
//     is read in XESOptions.Location, UTC by default).
//   - Every other event attribute, lifecycle:transition included, is a
//     property under its XES key ("org:resource"). Types map as string and
//     id → string, int → json.Number, float → json.Number (NaN and ±INF,
//     which JSON cannot hold, stay strings), boolean → bool, date → string
//     in RFC 3339 UTC. Nested attributes (XES 1.0 "nested-attributes",
//     IEEE containers) are flattened with dots: an attribute "cost" with a
//     child "currency" gives the properties "cost" and "cost.currency". A
//     list becomes a []any of its items' values, in order. Events whose
//     attributes read the same (text, numbers, booleans: no lists) share
//     one Properties map, which sinks must treat as read-only.
//   - Trace attributes other than concept:name are the customer's traits,
//     sent as Segment does for a track call, in context.traits. All events of
//     one trace share one Context map: sinks must treat it as read-only.
//   - Log-level attributes, globals, extensions and classifiers are schema
//     information, not events, and are skipped. An event outside any trace
//     has no customer and is rejected.
//   - Trace attributes must come before the trace's first event, as the XES
//     schema puts them; one after an event is an error, because the events
//     already streamed could not carry it.
//
// # CSV mapping
//
// The first row is the header. CSVMapping names the columns holding the
// customer id (the UserID), the event name, the time and, optionally, the
// channel; every other column is a property, as a string (CSV has no types,
// and guessing would turn "00123" into 123), named by its header; a column
// with an empty header is named "column N" (N counting from 1). Empty cells
// are left out. A
// channel cell that is one of trek's channels sets the event's channel;
// another value is kept as a property under the column's name and the event
// gets Options.DefaultChannel. Times are auto-detected (see CSVMapping) unless
// a layout is given.
//
// # NDJSON mapping
//
// Each non-blank line is one event object in the Segment shape (as sent to
// /v1/track and the other calls, or as `trek export --format ndjson`
// writes it). "type" defaults to "track". Members trek has no field for
// (receivedAt, integrations, writeKey, an export's sourceId…) are checked
// for syntax and dropped: the import sets its own source and receipt time. The event time is "timestamp",
// else "originalTimestamp"; a line with neither is rejected, because an
// import of history without times would put every event at the import's
// moment. The timestamp is taken as it is: in an export it has been
// corrected for clock skew already, so sentAt is kept but not applied
// again. The channel is the line's "channel", else context.channel, when it
// is one of trek's channels, else Options.DefaultChannel. Numeric userId
// and anonymousId are turned into strings as Segment does. Numbers keep
// their exact text (json.Number). Text that is not valid UTF-8, including
// escaped lone surrogates, is refused, not replaced. A properties or
// context object (or an object directly inside one) whose text was already
// read is not decoded again: the events share its map, read-only. In an
// export a device's library, os and screen, often its whole context, repeat
// line after line; sharing made the reader about 30 % cheaper on trek gen's
// data. A repeated text is found by its brackets and strings alone and
// needs no other check, since it is the text of an object already checked.
//
// # Compressed input
//
// Open and NewReader gunzip transparently, recognising gzip by its magic
// bytes (1f 8b), not by the file name. Because a small gzip file can
// inflate to an enormous one (a gzip bomb), the inflated stream is capped
// by GzipLimits: MaxInflated bytes in all (default 64 GiB, room for a
// 100-million-event NDJSON file) and MaxRatio inflated bytes per compressed
// byte once past the first MiB (default 250; real event logs compress 10 to
// 30 times, deflate's ceiling is about 1,030). Passing either answers a
// *fault.Error of code TooLarge. A server taking imports over HTTP should
// pass a MaxInflated suited to its request limits.
package importer
