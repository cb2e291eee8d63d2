package ovsdb

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestReaderKeepsBytesAfterALargeMessage: after a message over shrinkAfter
// the reader replaces its JSON decoder (to release its buffer); the bytes
// the old decoder had already read past that message, here a notification
// written in the same write as the reply, must reach the new one.
func TestReaderKeepsBytesAfterALargeMessage(t *testing.T) {
	client, server := net.Pipe()
	defer server.Close()
	got := make(chan string, 4)
	c := newRPCConn(client, "pipe", func(method string, params json.RawMessage) {
		got <- method + " " + string(params)
	}, rpcLimits{})
	defer c.close()

	reqs := json.NewDecoder(server)
	type result struct {
		res json.RawMessage
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := c.call(context.Background(), "get_big", []string{})
		done <- result{res, err}
	}()
	var req struct {
		ID uint64 `json:"id"`
	}
	require.NoError(t, reqs.Decode(&req))
	big := strings.Repeat("x", 2*shrinkAfter)
	reply := `{"id":` + jsonNumber(req.ID) + `,"result":"` + big + `","error":null}`
	note := `{"id":null,"method":"update2","params":["m",{}]}`
	_, err := server.Write([]byte(reply + note))
	require.NoError(t, err)

	select {
	case r := <-done:
		require.NoError(t, r.err)
		require.Len(t, r.res, len(big)+2)
	case <-time.After(5 * time.Second):
		t.Fatal("no reply")
	}
	select {
	case n := <-got:
		require.Equal(t, `update2 ["m",{}]`, n)
	case <-time.After(5 * time.Second):
		t.Fatal("the notification behind the large reply was lost")
	}
	// And the connection goes on reading after the swap.
	_, err = server.Write([]byte(`{"id":null,"method":"update2","params":["m",{"T":{}}]}`))
	require.NoError(t, err)
	select {
	case n := <-got:
		require.Equal(t, `update2 ["m",{"T":{}}]`, n)
	case <-time.After(5 * time.Second):
		t.Fatal("nothing read after the decoder swap")
	}
}

func jsonNumber(n uint64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
