package ovsdb

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rpcConn is one JSON-RPC connection to an ovsdb-server (RFC 7047 section
// 4): calls matched to their replies by id, the server's echo requests
// answered, notifications (update2) handed to notify on the reading
// goroutine, in order.
type rpcConn struct {
	conn     net.Conn
	endpoint string
	notify   func(method string, params json.RawMessage)
	limits   rpcLimits

	wmu sync.Mutex // one message at a time on the wire

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]*rpcCall
	err     error // why the connection ended; set before done closes

	done      chan struct{}
	closeOnce sync.Once
}

type rpcCall struct {
	result json.RawMessage
	err    error
	done   chan struct{}
}

// rpcMessage is a request, a reply or a notification.
type rpcMessage struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  json.RawMessage `json:"error,omitempty"`
}

// writeTimeout bounds one message write: a server that stops reading ends
// the connection instead of blocking its callers.
const writeTimeout = 30 * time.Second

// shrinkAfter is the message size after which the reader's buffer is
// released: json.Decoder keeps the capacity its largest message needed
// (16 MB after a 100,000-port initial download) for the connection's life.
const shrinkAfter = 1 << 20

// dialEndpoint opens one remote: unix:PATH, tcp:HOST:PORT or ssl:HOST:PORT
// (IPv6 as [addr]:port).
func dialEndpoint(ctx context.Context, endpoint string, tlsCfg *tls.Config) (net.Conn, error) {
	scheme, addr, ok := strings.Cut(endpoint, ":")
	if !ok || addr == "" {
		return nil, fmt.Errorf("remote %q: want unix:PATH, tcp:IP:PORT or ssl:IP:PORT", endpoint)
	}
	var d net.Dialer
	switch scheme {
	case "unix":
		return d.DialContext(ctx, "unix", addr)
	case "tcp":
		return d.DialContext(ctx, "tcp", addr)
	case "ssl":
		if tlsCfg == nil {
			return nil, fmt.Errorf("remote %q: no SSL settings", endpoint)
		}
		td := tls.Dialer{NetDialer: &d, Config: tlsCfg}
		return td.DialContext(ctx, "tcp", addr)
	default:
		return nil, fmt.Errorf("remote %q: unknown scheme %q (want unix, tcp or ssl)", endpoint, scheme)
	}
}

// rpcLimits bound what a server may send: the size of one message
// (0: no limit). db labels the metric.
type rpcLimits struct {
	db         string
	maxMessage int64
}

// ErrLimit is the cause of a connection dropped because the server sent
// more than a limit allows (a message, or the updates queued during the
// initial download); the client reconnects with backoff.
var ErrLimit = errors.New("ovsdb limit exceeded")

// limitReader counts the bytes read since the current message began and
// fails once they exceed max: a server cannot make the reader buffer an
// unbounded message. The count may include the beginning of the next
// message (at most one read ahead). The error is kept: json.Decoder
// drops a read's error when that read completes the message.
type limitReader struct {
	r         io.Reader
	used, max int64
	err       error
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	l.used += int64(n)
	if l.max > 0 && l.used > l.max {
		l.err = fmt.Errorf("%w: a message larger than %d bytes (ovsdb_max_message_mb)", ErrLimit, l.max)
		return n, l.err
	}
	return n, err
}

// newRPCConn starts reading conn.
func newRPCConn(conn net.Conn, endpoint string, notify func(method string, params json.RawMessage), limits rpcLimits) *rpcConn {
	c := &rpcConn{conn: conn, endpoint: endpoint, notify: notify, limits: limits, pending: map[uint64]*rpcCall{}, done: make(chan struct{})}
	go c.read()
	return c
}

// close ends the connection; pending and later calls fail.
func (c *rpcConn) close() { c.fail(errors.New("connection closed")) }

func (c *rpcConn) fail(err error) {
	c.closeOnce.Do(func() {
		_ = c.conn.Close()
		c.mu.Lock()
		c.err = err
		pending := c.pending
		c.pending = nil
		c.mu.Unlock()
		for _, call := range pending {
			call.err = fmt.Errorf("ovsdb %s: %w", c.endpoint, err)
			close(call.done)
		}
		close(c.done)
	})
}

// cause says why the connection ended (nil while it is up).
func (c *rpcConn) cause() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *rpcConn) write(m any) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := c.conn.Write(b); err != nil {
		c.fail(err)
		return err
	}
	return nil
}

// call sends a request and waits for its reply, ctx or the end of the
// connection.
func (c *rpcConn) call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	call := &rpcCall{done: make(chan struct{})}
	c.mu.Lock()
	if c.pending == nil {
		err := c.err
		c.mu.Unlock()
		return nil, fmt.Errorf("ovsdb %s: %w", c.endpoint, err)
	}
	c.nextID++
	id := c.nextID
	c.pending[id] = call
	c.mu.Unlock()
	if err := c.write(struct {
		ID     uint64 `json:"id"`
		Method string `json:"method"`
		Params any    `json:"params"`
	}{id, method, params}); err != nil {
		c.forget(id)
		return nil, fmt.Errorf("ovsdb %s: %s: %w", c.endpoint, method, err)
	}
	select {
	case <-call.done:
		return call.result, call.err
	case <-ctx.Done():
		c.forget(id)
		return nil, fmt.Errorf("ovsdb %s: %s: %w", c.endpoint, method, ctx.Err())
	}
}

// forget drops a call whose caller no longer waits; a late reply is ignored.
func (c *rpcConn) forget(id uint64) {
	c.mu.Lock()
	if c.pending != nil {
		delete(c.pending, id)
	}
	c.mu.Unlock()
}

// read decodes messages until the connection ends.
func (c *rpcConn) read() {
	lr := &limitReader{r: c.conn, max: c.limits.maxMessage}
	dec := json.NewDecoder(lr)
	for {
		start := dec.InputOffset()
		lr.used = 0
		if br, ok := dec.Buffered().(*bytes.Reader); ok {
			lr.used = int64(br.Len()) // read ahead: the beginning of this message
		}
		var m rpcMessage
		err := dec.Decode(&m)
		if err == nil {
			err = lr.err
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("closed by the server")
			}
			if errors.Is(err, ErrLimit) {
				metricLimits.WithLabelValues(c.limits.db, "message").Inc()
			}
			c.fail(err)
			return
		}
		if dec.InputOffset()-start > shrinkAfter {
			rest, _ := io.ReadAll(dec.Buffered())
			lr.r = io.MultiReader(bytes.NewReader(rest), c.conn)
			dec = json.NewDecoder(lr)
		}
		if m.Method != "" {
			c.request(m)
			continue
		}
		c.reply(m)
	}
}

func (c *rpcConn) request(m rpcMessage) {
	switch m.Method {
	case "echo":
		params := m.Params
		if len(params) == 0 {
			params = json.RawMessage("[]")
		}
		_ = c.write(struct {
			ID     json.RawMessage `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  any             `json:"error"`
		}{m.ID, params, nil})
	default:
		if c.notify != nil {
			c.notify(m.Method, m.Params)
		}
	}
}

func (c *rpcConn) reply(m rpcMessage) {
	id, err := strconv.ParseUint(string(m.ID), 10, 64)
	if err != nil {
		return // not one of ours
	}
	c.mu.Lock()
	call := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if call == nil {
		return // its caller gave up
	}
	if len(m.Error) > 0 && string(m.Error) != "null" {
		call.err = fmt.Errorf("ovsdb %s: %s", c.endpoint, m.Error)
	} else {
		call.result = m.Result
	}
	close(call.done)
}
