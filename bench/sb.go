package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// rpc is a minimal OVSDB JSON-RPC client for writing the southbound: it
// pipelines transactions (replies are matched by id) and answers the
// server's echo probes.
type rpc struct {
	conn    net.Conn
	wmu     sync.Mutex
	w       *bufio.Writer
	enc     *json.Encoder
	mu      sync.Mutex
	id      int
	pending map[int]chan reply
	err     error
}

type reply struct {
	result []json.RawMessage
	err    error
	at     time.Time
}

func dialRPC(sock string) (*rpc, error) {
	c, err := net.Dial("unix", sock)
	if err != nil {
		return nil, err
	}
	r := &rpc{conn: c, w: bufio.NewWriterSize(c, 1<<20), pending: map[int]chan reply{}}
	r.enc = json.NewEncoder(r.w)
	go r.read()
	return r, nil
}

func (r *rpc) close() { _ = r.conn.Close() }

func (r *rpc) read() {
	dec := json.NewDecoder(bufio.NewReaderSize(r.conn, 1<<20))
	for {
		var msg struct {
			ID     any               `json:"id"`
			Method string            `json:"method"`
			Params json.RawMessage   `json:"params"`
			Result []json.RawMessage `json:"result"`
			Error  any               `json:"error"`
		}
		if err := dec.Decode(&msg); err != nil {
			r.mu.Lock()
			r.err = err
			for id, ch := range r.pending {
				ch <- reply{err: err}
				delete(r.pending, id)
			}
			r.mu.Unlock()
			return
		}
		now := time.Now()
		if msg.Method == "echo" {
			r.send(map[string]any{"id": msg.ID, "result": msg.Params, "error": nil})
			continue
		}
		f, ok := msg.ID.(float64)
		if !ok {
			continue
		}
		r.mu.Lock()
		ch := r.pending[int(f)]
		delete(r.pending, int(f))
		r.mu.Unlock()
		if ch == nil {
			continue
		}
		var err error
		if msg.Error != nil {
			err = fmt.Errorf("ovsdb error: %v", msg.Error)
		}
		for _, res := range msg.Result {
			var e struct {
				Error   string `json:"error"`
				Details string `json:"details"`
			}
			_ = json.Unmarshal(res, &e)
			if e.Error != "" {
				err = fmt.Errorf("transact: %s: %s", e.Error, e.Details)
			}
		}
		ch <- reply{result: msg.Result, err: err, at: now}
	}
}

func (r *rpc) send(v any) error {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if err := r.enc.Encode(v); err != nil {
		return err
	}
	return r.w.Flush()
}

// start sends one transaction and returns the channel of its reply and
// the time it was written to the socket.
func (r *rpc) start(db string, ops []any) (<-chan reply, time.Time, error) {
	ch := make(chan reply, 1)
	r.mu.Lock()
	if r.err != nil {
		r.mu.Unlock()
		return nil, time.Time{}, r.err
	}
	r.id++
	id := r.id
	r.pending[id] = ch
	r.mu.Unlock()
	t := time.Now()
	err := r.send(map[string]any{"id": id, "method": "transact", "params": append([]any{db}, ops...)})
	return ch, t, err
}

func (r *rpc) transact(db string, ops []any) ([]json.RawMessage, error) {
	ch, _, err := r.start(db, ops)
	if err != nil {
		return nil, err
	}
	select {
	case rep := <-ch:
		return rep.result, rep.err
	case <-time.After(5 * time.Minute):
		return nil, errors.New("transact: no reply in 5 minutes")
	}
}

func insertOp(table string, row map[string]any, name string) map[string]any {
	op := map[string]any{"op": "insert", "table": table, "row": row}
	if name != "" {
		op["uuid-name"] = name
	}
	return op
}

func uuidOf(res json.RawMessage) string {
	var v struct {
		UUID []string `json:"uuid"`
	}
	_ = json.Unmarshal(res, &v)
	if len(v.UUID) == 2 {
		return v.UUID[1]
	}
	return ""
}

func ovsMap(kv ...string) []any {
	var pairs [][]string
	for i := 0; i+1 < len(kv); i += 2 {
		pairs = append(pairs, []string{kv[i], kv[i+1]})
	}
	return []any{"map", pairs}
}

// topo is the synthetic cloud: numChassis chassis (c0 is the benchmarked
// one), provider networks of portsPerNet VM ports each (a flat localnet on
// physnet1: the host kernel has no VLAN devices), every VM port bound and
// up; ports with index%10 == 0 are on c0 (10% local).
type topo struct {
	ports     int
	chassis   []string // SB Chassis UUIDs, index = chassis number
	datapaths []string
	pbs       []string // Port_Binding UUIDs of the VM ports
	local     []int    // indices of the ports bound to c0
	remote    []int    // indices of the ports bound elsewhere
	northd    bool     // built through the northbound: northd owns requested_chassis
}

const (
	numChassis  = 100
	portsPerNet = 100
)

// portIP is the address of VM port i (unique, 10.64.0.0/10).
func portIP(i int) netip.Addr {
	v := 0x0a400000 + i + 1
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func portChassis(i int) int {
	if i%10 == 0 {
		return 0
	}
	return 1 + i%(numChassis-1)
}

// vmPortName, vmAddresses and vmExternalIDs are VM port i's columns as
// Neutron writes them (Logical_Switch_Port) and northd copies them
// (Port_Binding), on network n.
func vmPortName(i int) string { return fmt.Sprintf("%08x-1111-4222-8333-%012x", i, i) }

func vmAddresses(i int, ip string) string {
	return fmt.Sprintf("fa:16:3e:%02x:%02x:%02x %s", (i>>16)&255, (i>>8)&255, i&255, ip)
}

func vmExternalIDs(i, n int, ip string) []any {
	return ovsMap(
		"neutron:cidrs", ip+"/10",
		"neutron:device_id", fmt.Sprintf("%08x-aaaa-4bbb-8ccc-%012x", i, i),
		"neutron:device_owner", "compute:nova",
		"neutron:network_name", "neutron-"+netName(n),
		"neutron:port_name", "",
		"neutron:project_id", "5f6a1c2d3e4f45a6b7c8d9e0f1a2b3c4",
		"neutron:revision_number", "4",
		"neutron:security_group_ids", "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e")
}

func netName(n int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n) }

// chassisOps register the numChassis chassis c0, c1, ... (Chassis and
// Encap) in the southbound, as their ovn-controllers would.
func chassisOps() []any {
	var ops []any
	for c := 0; c < numChassis; c++ {
		ops = append(ops,
			insertOp("Encap", map[string]any{"type": "geneve", "ip": fmt.Sprintf("192.0.%d.%d", 2+c/250, c%250+1),
				"chassis_name": fmt.Sprintf("c%d", c), "options": ovsMap("csum", "true")}, fmt.Sprintf("e%d", c)),
			insertOp("Chassis", map[string]any{"name": fmt.Sprintf("c%d", c), "hostname": fmt.Sprintf("host%d", c),
				"encaps":       []any{"named-uuid", fmt.Sprintf("e%d", c)},
				"other_config": ovsMap("ovn-bridge-mappings", "physnet1:br-ex", "datapath-type", "system")}, ""))
	}
	return ops
}

// fillSB writes the rows northd (and the ovn-controllers, for chassis,
// up) would write for ports VM ports: Chassis and Encap, per network a
// Datapath_Binding and its localnet Port_Binding, the VM Port_Bindings.
func fillSB(r *rpc, ports int) (*topo, error) {
	t := &topo{ports: ports}
	ops := chassisOps()
	nets := (ports + portsPerNet - 1) / portsPerNet
	for n := 0; n < nets; n++ {
		ops = append(ops, insertOp("Datapath_Binding", map[string]any{"tunnel_key": n + 1,
			"external_ids": ovsMap("logical-switch", fmt.Sprintf("%08x-5555-4666-8777-%012x", n, n),
				"name", "neutron-"+netName(n), "name2", fmt.Sprintf("provider-%d", n))}, ""))
	}
	res, err := r.transact("OVN_Southbound", ops)
	if err != nil {
		return nil, err
	}
	for c := 0; c < numChassis; c++ {
		t.chassis = append(t.chassis, uuidOf(res[2*c+1]))
	}
	for n := 0; n < nets; n++ {
		t.datapaths = append(t.datapaths, uuidOf(res[2*numChassis+n]))
	}
	ops = ops[:0]
	for n := 0; n < nets; n++ {
		ops = append(ops, insertOp("Port_Binding", map[string]any{
			"logical_port": "provnet-" + netName(n), "type": "localnet", "tunnel_key": 1,
			"datapath": []any{"uuid", t.datapaths[n]}, "mac": "unknown",
			"options":      ovsMap("network_name", "physnet1"),
			"external_ids": ovsMap("neutron:network_name", "neutron-"+netName(n)),
		}, ""))
	}
	if _, err := r.transact("OVN_Southbound", ops); err != nil {
		return nil, err
	}
	t.pbs = make([]string, ports)
	b := &portBatch{r: r, pbs: t.pbs}
	for i := 0; i < ports; i++ {
		n := i / portsPerNet
		ch := portChassis(i)
		if ch == 0 {
			t.local = append(t.local, i)
		} else {
			t.remote = append(t.remote, i)
		}
		if err := b.add(i, vmPortInsert(i, t.datapaths[n], t.chassis[ch], fmt.Sprintf("host%d", ch))); err != nil {
			return nil, err
		}
	}
	if err := b.flush(); err != nil {
		return nil, err
	}
	return t, nil
}

// portBatch inserts VM ports in transactions of 5,000 and records the
// UUID of port i in pbs[i].
type portBatch struct {
	r   *rpc
	pbs []string
	ops []any
	idx []int
}

func (b *portBatch) add(i int, op any) error {
	b.ops, b.idx = append(b.ops, op), append(b.idx, i)
	if len(b.ops) == 5000 {
		return b.flush()
	}
	return nil
}

func (b *portBatch) flush() error {
	if len(b.ops) == 0 {
		return nil
	}
	res, err := b.r.transact("OVN_Southbound", b.ops)
	if err != nil {
		return err
	}
	for k, i := range b.idx {
		b.pbs[i] = uuidOf(res[k])
	}
	b.ops, b.idx = b.ops[:0], b.idx[:0]
	return nil
}

// vmPortInsert inserts VM port i's Port_Binding as northd writes it and
// ovn-controller claims it: on datapath dp, bound and up on the chassis of
// UUID ch whose hostname is host.
func vmPortInsert(i int, dp, ch, host string) map[string]any {
	ip := portIP(i).String()
	return insertOp("Port_Binding", map[string]any{
		"logical_port":      vmPortName(i),
		"tunnel_key":        i%portsPerNet + 2,
		"datapath":          []any{"uuid", dp},
		"chassis":           []any{"uuid", ch},
		"requested_chassis": []any{"uuid", ch},
		"up":                true,
		"mac":               vmAddresses(i, ip),
		"options":           ovsMap("requested-chassis", host),
		"external_ids":      vmExternalIDs(i, i/portsPerNet, ip),
	}, "")
}

// bindOp moves VM port i to chassis ch (what ovn-controller writes when the
// VM starts there: chassis, then up).
func (t *topo) bindOp(i, ch int, up bool) map[string]any {
	row := map[string]any{"chassis": []any{"uuid", t.chassis[ch]}, "up": up}
	if !t.northd {
		row["requested_chassis"] = []any{"uuid", t.chassis[ch]}
	}
	return map[string]any{"op": "update", "table": "Port_Binding",
		"where": []any{[]any{"_uuid", "==", []any{"uuid", t.pbs[i]}}}, "row": row}
}

// upOp sets up on VM port i.
func (t *topo) upOp(i int, up bool) map[string]any {
	return map[string]any{"op": "update", "table": "Port_Binding",
		"where": []any{[]any{"_uuid", "==", []any{"uuid", t.pbs[i]}}},
		"row":   map[string]any{"up": up}}
}

// fillNB builds the same cloud through the northbound and ovn-northd: the
// chassis are registered in the southbound (as ovn-controller does), the
// provider networks and VM ports are created in the northbound (as
// Neutron does), northd writes the Datapath_Bindings and Port_Bindings,
// then every VM port is claimed (chassis, up) by its chassis as
// ovn-controller would.
func fillNB(nb, sb *rpc, ports int) (*topo, error) {
	t := &topo{ports: ports, northd: true}
	ops := chassisOps()
	res, err := sb.transact("OVN_Southbound", ops)
	if err != nil {
		return nil, err
	}
	for c := 0; c < numChassis; c++ {
		t.chassis = append(t.chassis, uuidOf(res[2*c+1]))
	}
	nets := (ports + portsPerNet - 1) / portsPerNet
	for n := 0; n < nets; n++ {
		ops = ops[:0]
		var lsps []any
		ops = append(ops, insertOp("Logical_Switch_Port", map[string]any{
			"name": "provnet-" + netName(n), "type": "localnet", "addresses": "unknown",
			"options": ovsMap("network_name", "physnet1")}, "ln"))
		lsps = append(lsps, []any{"named-uuid", "ln"})
		for i := n * portsPerNet; i < min(ports, (n+1)*portsPerNet); i++ {
			ip := portIP(i).String()
			name := fmt.Sprintf("p%d", i)
			ops = append(ops, insertOp("Logical_Switch_Port", map[string]any{
				"name":         vmPortName(i),
				"addresses":    vmAddresses(i, ip),
				"options":      ovsMap("requested-chassis", fmt.Sprintf("host%d", portChassis(i))),
				"external_ids": vmExternalIDs(i, n, ip),
			}, name))
			lsps = append(lsps, []any{"named-uuid", name})
		}
		ops = append(ops, insertOp("Logical_Switch", map[string]any{
			"name":         "neutron-" + netName(n),
			"ports":        []any{"set", lsps},
			"external_ids": ovsMap("neutron:network_name", fmt.Sprintf("provider-%d", n), "neutron:revision_number", "2"),
			"other_config": ovsMap("mcast_snoop", "false"),
		}, ""))
		if _, err := nb.transact("OVN_Northbound", ops); err != nil {
			return nil, err
		}
	}
	// Wait for northd's Port_Bindings.
	t.pbs = make([]string, ports)
	deadline := time.Now().Add(10 * time.Minute)
	for {
		res, err := sb.transact("OVN_Southbound", []any{map[string]any{"op": "select", "table": "Port_Binding",
			"where": []any{[]any{"type", "==", ""}}, "columns": []string{"_uuid", "logical_port"}}})
		if err != nil {
			return nil, err
		}
		var sel struct {
			Rows []struct {
				UUID        []string `json:"_uuid"`
				LogicalPort string   `json:"logical_port"`
			} `json:"rows"`
		}
		if err := json.Unmarshal(res[0], &sel); err != nil {
			return nil, err
		}
		if len(sel.Rows) == ports {
			for _, r := range sel.Rows {
				var i int
				if _, err := fmt.Sscanf(r.LogicalPort[:8], "%x", &i); err != nil || i >= ports {
					return nil, fmt.Errorf("unexpected port %q", r.LogicalPort)
				}
				t.pbs[i] = r.UUID[1]
			}
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("northd wrote %d of %d Port_Bindings", len(sel.Rows), ports)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Claim every port on its chassis.
	ops = ops[:0]
	for i := 0; i < ports; i++ {
		if portChassis(i) == 0 {
			t.local = append(t.local, i)
		} else {
			t.remote = append(t.remote, i)
		}
		ops = append(ops, t.bindOp(i, portChassis(i), true))
		if len(ops) == 5000 {
			if _, err := sb.transact("OVN_Southbound", ops); err != nil {
				return nil, err
			}
			ops = ops[:0]
		}
	}
	if len(ops) > 0 {
		if _, err := sb.transact("OVN_Southbound", ops); err != nil {
			return nil, err
		}
	}
	return t, nil
}
