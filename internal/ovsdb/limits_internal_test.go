package ovsdb

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
)

// TestQueueLimitDropsTheConnection: the update2 notifications that wait
// while the initial rows are applied are bounded by MaxQueuedBytes; past
// it the queue is dropped and so is the connection, with ErrLimit.
func TestQueueLimitDropsTheConnection(t *testing.T) {
	client, server := net.Pipe()
	defer server.Close()
	c := &Client{spec: Southbound, opts: Options{MaxQueuedBytes: 1000}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	g := &generation{rpc: newRPCConn(client, "pipe", nil, rpcLimits{db: "OVN_Southbound"})}
	defer g.rpc.close()
	before := LimitExceeded("OVN_Southbound", "queue")
	params := json.RawMessage(`["ovnbgp",{"Port_Binding":{"u":{"modify":{"up":true}}}}]`)
	for i := 0; i < 10; i++ {
		c.update(g, params)
	}
	if g.rpc.cause() != nil || len(g.queued) != 10 {
		t.Fatalf("under the limit: cause %v, %d queued", g.rpc.cause(), len(g.queued))
	}
	c.update(g, json.RawMessage(`["ovnbgp",{"Port_Binding":{"u":{"modify":{"name":"`+strings.Repeat("x", 1000)+`"}}}}]`))
	if err := g.rpc.cause(); !errors.Is(err, ErrLimit) {
		t.Fatalf("over the limit: cause %v", err)
	}
	if g.queued != nil {
		t.Fatalf("%d updates still queued", len(g.queued))
	}
	if got := LimitExceeded("OVN_Southbound", "queue"); got != before+1 {
		t.Fatalf("metric %v, want %v", got, before+1)
	}
}
