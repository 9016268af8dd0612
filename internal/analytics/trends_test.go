package analytics

import (
	"context"
	"testing"
	"time"
)

func TestTrendsConversionPerPeriodWithThePreviousRange(t *testing.T) {
	day := 24 * 60.0
	// t0 is Monday 2025-03-03 09:00 UTC.
	ix := buildIndex(t, []cust{
		{id: 1, evs: []ev{{"A", 0, "", nil}, {"B", 10, "", nil}}},              // Mon: converts
		{id: 2, evs: []ev{{"A", 5, "", nil}}},                                  // Mon: does not
		{id: 3, evs: []ev{{"A", day, "", nil}, {"B", 3 * day, "", nil}}},       // Tue: converts after the day ends
		{id: 4, evs: []ev{{"A", -day, "", nil}, {"B", -day + 1, "", nil}}},     // Sun before: previous range
		{id: 5, evs: []ev{{"A", 0, "", nil}, {"A", day, "", nil}}},             // Mon and Tue: counted in both
		{id: 6, evs: []ev{{"A", -3 * day, "", nil}, {"B", -2 * day, "", nil}}}, // outside both ranges
	})
	from := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	r, err := Trends(context.Background(), ix, TrendsQuery{Measure: MeasureConversion, Steps: steps("A", "B"), Window: "7d", From: from, To: from.AddDate(0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Series) != 2 || len(r.Previous) != 2 {
		t.Fatalf("series %d previous %d, want 2 and 2", len(r.Series), len(r.Previous))
	}
	check := func(name string, p TrendPoint, customers, converted int64, start time.Time) {
		t.Helper()
		if p.Customers != customers || p.Converted != converted || !p.Start.Equal(start) {
			t.Errorf("%s: %+v, want %d customers, %d converted from %v", name, p, customers, converted, start)
		}
	}
	check("Monday", r.Series[0], 3, 1, from)
	check("Tuesday", r.Series[1], 2, 1, from.AddDate(0, 0, 1))
	check("Sunday before", r.Previous[1], 1, 1, from.AddDate(0, 0, -1))
	check("Saturday before", r.Previous[0], 0, 0, from.AddDate(0, 0, -2))
	if r.Series[0].Value != 0.333333 || r.Total.Customers != 5 || r.Total.Converted != 2 {
		t.Errorf("value %v total %+v", r.Series[0].Value, r.Total)
	}
}

func TestTrendsVolumeByWeekAndMonth(t *testing.T) {
	day := 24 * 60.0
	ix := buildIndex(t, []cust{
		{id: 1, evs: []ev{{"A", 0, "", nil}, {"A", 1, "", nil}, {"A", 7 * day, "", nil}}},
		{id: 2, evs: []ev{{"A", 6 * day, "", nil}}}, // Sunday: still the first week
	})
	from := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	r, err := Trends(context.Background(), ix, TrendsQuery{Measure: MeasureVolume, Event: &Matcher{Event: "A"}, Interval: IntervalWeek, From: from, To: from.AddDate(0, 0, 14)})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Series) != 2 || r.Series[0].Events != 3 || r.Series[0].Customers != 2 || r.Series[1].Events != 1 || r.Series[1].Value != 1 {
		t.Errorf("weeks: %+v", r.Series)
	}
	r, err = Trends(context.Background(), ix, TrendsQuery{Measure: MeasureVolume, Event: &Matcher{Event: "A"}, Interval: IntervalMonth, From: time.Date(2025, 2, 15, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Series) != 2 || !r.Series[1].Start.Equal(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)) || r.Series[1].Events != 4 || r.Series[0].Events != 0 {
		t.Errorf("months: %+v", r.Series)
	}
}

func TestTrendsRefusesInvalidQueries(t *testing.T) {
	ix := buildIndex(t, []cust{{id: 1, evs: []ev{{"A", 0, "", nil}}}})
	from := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	for name, q := range map[string]TrendsQuery{
		"no measure":    {From: from, To: from.AddDate(0, 0, 1), Event: &Matcher{Event: "A"}},
		"one step":      {Measure: MeasureConversion, Steps: steps("A"), From: from, To: from.AddDate(0, 0, 1)},
		"no range":      {Measure: MeasureVolume, Event: &Matcher{Event: "A"}},
		"reversed":      {Measure: MeasureVolume, Event: &Matcher{Event: "A"}, From: from, To: from.AddDate(0, 0, -1)},
		"unknown event": {Measure: MeasureVolume, Event: &Matcher{Event: "Z"}, From: from, To: from.AddDate(0, 0, 1)},
		"too many days": {Measure: MeasureVolume, Event: &Matcher{Event: "A"}, From: from, To: from.AddDate(10, 0, 0)},
		"interval":      {Measure: MeasureVolume, Event: &Matcher{Event: "A"}, Interval: "hour", From: from, To: from.AddDate(0, 0, 1)},
	} {
		if _, err := Trends(context.Background(), ix, q); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
