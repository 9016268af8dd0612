package chtest

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestServerLoadsRowBinaryAndAnswersQueries(t *testing.T) {
	s := Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Exec(ctx, "CREATE TABLE t (c UInt64, ts DateTime, e String) ENGINE = MergeTree ORDER BY (c, ts)"); err != nil {
		t.Fatal(err)
	}
	var rb RowBinary
	rb = rb.UInt64(7).UInt32(1700000000).String("Order Completed")
	rb = rb.UInt64(7).UInt32(1700000001).String("Ωμέγα ünïcode")
	rb = rb.UInt64(1<<63 + 5).UInt32(1).String(strings.Repeat("x", 300)) // a length past one varint byte
	if _, err := s.Query(ctx, "INSERT INTO t FORMAT RowBinary", strings.NewReader(string(rb)), nil); err != nil {
		t.Fatal(err)
	}
	out, err := s.Query(ctx, "SELECT c, toUnixTimestamp(ts), ts, length(e), e FROM t ORDER BY c, ts FORMAT TabSeparated", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "7\t1700000000\t2023-11-14 22:13:20\t15\tOrder Completed\n" +
		"7\t1700000001\t2023-11-14 22:13:21\t20\tΩμέγα ünïcode\n" +
		"9223372036854775813\t1\t1970-01-01 00:00:01\t300\t" + strings.Repeat("x", 300) + "\n"
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestQueryErrorNamesTheStatementAndTheServersReason(t *testing.T) {
	s := Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := s.Query(ctx, "SELECT nosuchcolumn FROM system.one", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "SELECT nosuchcolumn") || !strings.Contains(err.Error(), "nosuchcolumn") || !strings.Contains(err.Error(), "DB::Exception") {
		t.Fatalf("got %v; want an error naming the statement and ClickHouse's reason", err)
	}
}

func TestCloseStopsTheServer(t *testing.T) {
	if _, err := Binary(); err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.ping(ctx); err == nil {
		t.Fatal("the server still answers after Close")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("a second Close: %v", err)
	}
}
