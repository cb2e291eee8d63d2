package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// rawMonitor is a lightweight OVSDB client that opens the monitor another
// kind of agent opens (upstream's whole tables, ovn-controller's
// conditions), reads every message without decoding the rows (the server's
// cost does not depend on what the client does with them), answers echo,
// and counts bytes and update notifications.
type rawMonitor struct {
	conn    net.Conn
	wmu     sync.Mutex
	initial chan error // the monitor's reply (or the connection's end)
	bytes   atomic.Int64
	updates atomic.Int64
	err     atomic.Value
}

// rawRequest is one table's monitor-cond-request: every column when
// columns is nil, every row when where is nil.
type rawRequest struct {
	Columns []string `json:"columns,omitempty"`
	Where   []any    `json:"where,omitempty"`
}

// dialRaw connects, asks for the schema (as every IDL does first), then
// sends monitor_cond_since (python-ovs and ovn-controller use it when the
// server has it) with reqs.
func dialRaw(ctx context.Context, port int, reqs map[string][]rawRequest) (*rawMonitor, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, err
	}
	m := &rawMonitor{conn: c, initial: make(chan error, 1)}
	go m.read()
	if err := m.send(map[string]any{"id": 1, "method": "get_schema", "params": []any{"OVN_Southbound"}}); err != nil {
		c.Close()
		return nil, err
	}
	if err := m.send(map[string]any{"id": 2, "method": "monitor_cond_since",
		"params": []any{"OVN_Southbound", "fleet", reqs, "00000000-0000-0000-0000-000000000000"}}); err != nil {
		c.Close()
		return nil, err
	}
	return m, nil
}

func (m *rawMonitor) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	_, err = m.conn.Write(b)
	return err
}

func (m *rawMonitor) close() { _ = m.conn.Close() }

// headCap is how much of a message's beginning read keeps: every reply
// but the monitor's fits, so errors are read whole.
const headCap = 4096

// read splits the stream into JSON messages by bracket depth (strings and
// escapes followed), keeps only each message's first 4 KiB and last 64 bytes,
// and recognizes: an echo request (answered), the reply with id 2 (the
// monitor's initial rows), update notifications.
func (m *rawMonitor) read() {
	br := bufio.NewReaderSize(m.conn, 1<<20)
	var head, tail []byte
	depth, inStr, esc := 0, false, false
	size := 0
	replied := false
	fail := func(err error) {
		m.err.Store(err)
		if !replied {
			m.initial <- err
		}
	}
	for {
		chunk, _ := br.Peek(br.Buffered()) // what is buffered: no error
		if len(chunk) == 0 {
			if _, err := br.Peek(1); err != nil {
				if errors.Is(err, net.ErrClosed) {
					err = io.EOF
				}
				fail(err)
				return
			}
			continue
		}
		m.bytes.Add(int64(len(chunk)))
		start := 0
		for i, ch := range chunk {
			if inStr {
				switch {
				case esc:
					esc = false
				case ch == '\\':
					esc = true
				case ch == '"':
					inStr = false
				}
				continue
			}
			switch ch {
			case '"':
				inStr = true
			case '{', '[':
				if depth == 0 {
					start, size, head, tail = i, 0, head[:0], tail[:0]
				}
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					piece := chunk[start : i+1]
					size += len(piece)
					if len(head) < headCap {
						head = append(head, piece[:min(len(piece), headCap-len(head))]...)
					}
					tail = appendTail(tail, piece)
					if ok, err := m.message(head, tail, size); ok && !replied {
						replied = true
						m.initial <- err
					}
					start = i + 1
				}
			}
		}
		if depth > 0 {
			piece := chunk[start:]
			size += len(piece)
			if len(head) < headCap {
				head = append(head, piece[:min(len(piece), headCap-len(head))]...)
			}
			tail = appendTail(tail, piece)
		}
		_, _ = br.Discard(len(chunk))
	}
}

func appendTail(tail, piece []byte) []byte {
	if len(piece) >= 64 {
		return append(tail[:0], piece[len(piece)-64:]...)
	}
	tail = append(tail, piece...)
	if len(tail) > 64 {
		tail = append(tail[:0], tail[len(tail)-64:]...)
	}
	return tail
}

// message handles one complete message; true when it is the monitor's
// reply (with its error, if it is one). ovsdb-server writes an object's
// members in hash order, so the id may be at either end.
func (m *rawMonitor) message(head, tail []byte, size int) (bool, error) {
	if size <= headCap {
		var msg struct {
			ID     any             `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
			Error  any             `json:"error"`
		}
		if err := json.Unmarshal(head, &msg); err != nil {
			return false, nil
		}
		switch {
		case msg.Method == "echo":
			_ = m.send(map[string]any{"id": msg.ID, "result": msg.Params, "error": nil})
			return false, nil
		case msg.Method != "":
			m.updates.Add(1)
			return false, nil
		case msg.ID == float64(2):
			if msg.Error != nil {
				return true, fmt.Errorf("%v", msg.Error)
			}
			return true, nil
		}
		return false, nil
	}
	if bytes.Contains(head[:min(len(head), 64)], []byte(`"method":"update`)) || bytes.Contains(tail, []byte(`"method":"update`)) {
		m.updates.Add(1)
		return false, nil
	}
	return bytes.HasPrefix(head, []byte(`{"id":2,`)) || bytes.HasSuffix(tail, []byte(`"id":2}`)), nil
}

// waitInitial waits for the monitor's reply.
func (m *rawMonitor) waitInitial(ctx context.Context) error {
	select {
	case err := <-m.initial:
		if err != nil {
			return fmt.Errorf("monitor: %w", err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// upstreamRequests is what upstream's SB driver (ovn_bgp_driver) monitors
// through ovsdbapp: its tables with every column, only Chassis_Private
// with a condition (ovn_bgp_agent/drivers/openstack/utils/ovn.py,
// OvnSbIdl).
func upstreamRequests(chassis string) map[string][]rawRequest {
	return map[string][]rawRequest{
		"Port_Binding":     {{}},
		"Chassis":          {{}},
		"Datapath_Binding": {{}},
		"Load_Balancer":    {{}},
		"Logical_DP_Group": {{}},
		"Chassis_Private":  {{Where: []any{[]any{"name", "==", chassis}}}},
	}
}

// ovnControllerRequests approximate ovn-controller's monitor with
// ovn-monitor-all = false (controller/ovn-controller.c,
// update_sb_monitors): every table of the schema, every column;
// Port_Binding rows of the types it always needs (patch, chassisredirect,
// external), bound or requested here, l2/l3 gateways here, its own
// logical ports and every port of its local datapaths; the per-datapath
// tables (Logical_Flow, MAC_Binding, ...) on the local datapaths. The
// fleet's southbound has no logical flows (no northd), so this is a lower
// bound of ovn-controller's real monitor.
func ovnControllerRequests(tables []string, chassisUUID, chassis string, ports, dps []string) map[string][]rawRequest {
	u := func(s string) []any { return []any{"uuid", s} }
	pb := []any{
		[]any{"type", "==", "patch"}, []any{"type", "==", "chassisredirect"}, []any{"type", "==", "external"},
		[]any{"chassis", "==", u(chassisUUID)}, []any{"requested_chassis", "==", u(chassisUUID)},
		[]any{"options", "includes", []any{"map", []any{[]any{"l2gateway-chassis", chassis}}}},
		[]any{"options", "includes", []any{"map", []any{[]any{"l3gateway-chassis", chassis}}}},
	}
	for _, p := range ports {
		pb = append(pb, []any{"logical_port", "==", p})
	}
	var lf, dp []any
	for _, d := range dps {
		pb = append(pb, []any{"datapath", "==", u(d)})
		lf = append(lf, []any{"logical_datapath", "==", u(d)})
		dp = append(dp, []any{"datapath", "==", u(d)})
	}
	out := map[string][]rawRequest{}
	for _, t := range tables {
		switch t {
		case "Port_Binding":
			out[t] = []rawRequest{{Where: pb}}
		case "Logical_Flow":
			out[t] = []rawRequest{{Where: lf}}
		case "MAC_Binding", "Multicast_Group", "IP_Multicast", "Static_MAC_Binding":
			out[t] = []rawRequest{{Where: dp}}
		default:
			out[t] = []rawRequest{{}}
		}
	}
	return out
}

// settle waits until the processes' CPU times and written bytes stop
// moving (three polls of 100 ms in a row), up to timeout.
func settle(pids []int, timeout time.Duration) time.Duration {
	start := time.Now()
	type mark struct {
		cpu float64
		w   int64
	}
	read := func() []mark {
		out := make([]mark, len(pids))
		for i, p := range pids {
			_, _, cpu, _ := procStats(p)
			out[i] = mark{cpu, procWchar(p)}
		}
		return out
	}
	prev := read()
	still := 0
	for time.Since(start) < timeout {
		time.Sleep(100 * time.Millisecond)
		cur := read()
		moved := false
		for i := range cur {
			if cur[i].cpu-prev[i].cpu > 0.005 || cur[i].w != prev[i].w {
				moved = true
			}
		}
		prev = cur
		if moved {
			still = 0
			continue
		}
		if still++; still == 3 {
			return time.Since(start) - 300*time.Millisecond
		}
	}
	return time.Since(start)
}
