package ovsdb_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/test/ovsdbserver"
)

// Scale of the southbound benchmark: ports shaped like northd's, spread
// over networks and chassis; chassis "c0" holds localPorts of them.
const (
	benchPorts      = 100000
	benchNetworks   = 1000
	benchChassis    = 100
	benchLocalPorts = 1000
)

// rawTransactor returns a function that runs one transaction of ops on the
// southbound through its socket and returns the inserted rows' UUIDs.
func rawTransactor(sock string) (transact func(ops []any) ([]string, error), closeConn func(), err error) {
	conn, err := net.Dial("unix", sock)
	if err != nil {
		return nil, nil, err
	}
	enc, dec := json.NewEncoder(conn), json.NewDecoder(bufio.NewReaderSize(conn, 1<<20))
	id := 0
	transact = func(ops []any) ([]string, error) {
		id++
		if err := enc.Encode(map[string]any{"id": id, "method": "transact", "params": append([]any{"OVN_Southbound"}, ops...)}); err != nil {
			return nil, err
		}
		for {
			var msg struct {
				ID     any               `json:"id"`
				Method string            `json:"method"`
				Result []json.RawMessage `json:"result"`
				Error  any               `json:"error"`
			}
			if err := dec.Decode(&msg); err != nil {
				return nil, err
			}
			if msg.Method == "echo" || msg.ID == nil {
				continue
			}
			var uuids []string
			for _, r := range msg.Result {
				var res struct {
					UUID  []string `json:"uuid"`
					Error string   `json:"error"`
				}
				_ = json.Unmarshal(r, &res)
				if res.Error != "" {
					return nil, fmt.Errorf("transact: %s", r)
				}
				if len(res.UUID) == 2 {
					uuids = append(uuids, res.UUID[1])
				}
			}
			return uuids, nil
		}
	}
	return transact, func() { _ = conn.Close() }, nil
}

// fillSB writes ports rows shaped like northd's (and their chassis and
// networks, scaled from the benchmark's) into the server through its
// socket, in transactions of 10,000 rows. It returns the ports' UUIDs.
func fillSB(tb testing.TB, sock string, ports int) []string {
	tb.Helper()
	tx, closeConn, err := rawTransactor(sock)
	if err != nil {
		tb.Fatal(err)
	}
	defer closeConn()
	transact := func(ops []any) []string {
		u, err := tx(ops)
		if err != nil {
			tb.Fatal(err)
		}
		return u
	}
	networks, nchassis := max(1, ports*benchNetworks/benchPorts), benchChassis
	insert := func(table string, row map[string]any, name string) map[string]any {
		op := map[string]any{"op": "insert", "table": table, "row": row}
		if name != "" {
			op["uuid-name"] = name
		}
		return op
	}
	var ops []any
	for c := 0; c < nchassis; c++ {
		ops = append(ops,
			insert("Encap", map[string]any{"type": "geneve", "ip": fmt.Sprintf("10.1.%d.%d", c/250, c%250+1), "chassis_name": fmt.Sprintf("c%d", c)}, fmt.Sprintf("e%d", c)),
			insert("Chassis", map[string]any{"name": fmt.Sprintf("c%d", c), "hostname": fmt.Sprintf("host%d", c),
				"encaps": []any{"named-uuid", fmt.Sprintf("e%d", c)}}, ""))
	}
	for n := 0; n < networks; n++ {
		ops = append(ops, insert("Datapath_Binding", map[string]any{"tunnel_key": n + 1,
			"external_ids": []any{"map", [][]string{{"name", fmt.Sprintf("neutron-%08d-0000-4000-8000-000000000000", n)}}}}, ""))
	}
	u := transact(ops)
	var chassis, dps []string
	for i := 0; i < nchassis; i++ {
		chassis = append(chassis, u[2*i+1])
	}
	dps = u[2*nchassis:]
	ops = ops[:0]
	var pbs []string
	for i := 0; i < ports; i++ {
		n := i % networks
		ch := i % nchassis
		if i < benchLocalPorts {
			ch = 0
		} else if ch == 0 {
			ch = 1
		}
		ip := fmt.Sprintf("10.%d.%d.%d", n%250, (i/networks)%250, i%250+1)
		ops = append(ops, insert("Port_Binding", map[string]any{
			"logical_port": fmt.Sprintf("%08x-1111-4222-8333-%012x", i, i),
			"tunnel_key":   i/networks + 1,
			"datapath":     []any{"uuid", dps[n]},
			"chassis":      []any{"uuid", chassis[ch]},
			"up":           true,
			"mac":          fmt.Sprintf("fa:16:3e:%02x:%02x:%02x %s", (i>>16)&255, (i>>8)&255, i&255, ip),
			"options":      []any{"map", [][]string{{"requested-chassis", fmt.Sprintf("c%d", ch)}}},
			"external_ids": []any{"map", [][]string{
				{"neutron:cidrs", ip + "/16"},
				{"neutron:device_id", fmt.Sprintf("%08x-aaaa-4bbb-8ccc-%012x", i, i)},
				{"neutron:device_owner", "compute:nova"},
				{"neutron:network_name", fmt.Sprintf("neutron-%08d-0000-4000-8000-000000000000", n)},
				{"neutron:port_name", ""},
				{"neutron:project_id", "5f6a1c2d3e4f45a6b7c8d9e0f1a2b3c4"},
				{"neutron:revision_number", "4"},
				{"neutron:security_group_ids", "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"},
			}},
		}, ""))
		if len(ops) == 10000 {
			pbs = append(pbs, transact(ops)...)
			ops = ops[:0]
		}
	}
	if len(ops) > 0 {
		pbs = append(pbs, transact(ops)...)
	}
	return pbs
}

// pbColumns are the Port_Binding columns ovnbgp monitors on this schema.
func pbColumns() []string {
	return []string{"logical_port", "type", "datapath", "tunnel_key", "chassis", "additional_chassis",
		"requested_chassis", "up", "mac", "nat_addresses", "options", "external_ids", "tag", "virtual_parent"}
}

// rawSendTime measures how long the server takes to send the monitor reply
// for Port_Binding with our columns, read straight from the socket.
func rawSendTime(b *testing.B, sock string) (time.Duration, int64) {
	b.Helper()
	conn, err := net.Dial("unix", sock)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	req := map[string]any{"id": 1, "method": "monitor_cond", "params": []any{"OVN_Southbound", nil,
		map[string]any{"Port_Binding": []any{map[string]any{"columns": pbColumns()}}}}}
	start := time.Now()
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		b.Fatal(err)
	}
	cr := &countingReader{r: conn}
	dec := json.NewDecoder(cr)
	for {
		var msg struct {
			ID     any             `json:"id"`
			Result json.RawMessage `json:"result"`
		}
		if err := dec.Decode(&msg); err != nil {
			b.Fatal(err)
		}
		if msg.Result != nil {
			return time.Since(start), cr.n
		}
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// runCount runs `ovnbgp debug ovsdb-count` and returns its output and max RSS.
func runCount(b *testing.B, bin string, args ...string) (string, int64) {
	b.Helper()
	cmd := exec.Command(bin, append([]string{"debug", "ovsdb-count", "--rss"}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("ovsdb-count %v: %v: %s", args, err, out)
	}
	line := strings.TrimSpace(string(out))
	var rows int
	var secs float64
	var kb int64
	if _, err := fmt.Sscanf(line, "rows=%d seconds=%f rss_kb=%d", &rows, &secs, &kb); err != nil {
		b.Fatalf("ovsdb-count output %q: %v", line, err)
	}
	return line, kb * 1024
}

// BenchmarkSouthbound100k loads 100,000 Port_Bindings shaped like northd's
// and reports: the server's raw send time for the monitor reply, our client's
// unconditional initial load (and its ratio to the raw send time), the RSS of
// a process holding the unconditional cache and of one holding a compute
// chassis' conditional view (1,000 own ports), and `ovsdb-client dump`.
//
//	go test -run '^$' -bench Southbound100k -benchtime 3x ./internal/ovsdb/
func BenchmarkSouthbound100k(b *testing.B) {
	dir := b.TempDir()
	s := ovsdbserver.Start(b, ovsdbserver.Options{Schema: ovsdbserver.SBSchema})
	fillStart := time.Now()
	fillSB(b, s.Sock, benchPorts)
	b.Logf("filled %d ports in %.1fs", benchPorts, time.Since(fillStart).Seconds())

	bin := filepath.Join(dir, "ovnbgp")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/ovnbgp").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v: %s", err, out)
	}

	raw, bytes := rawSendTime(b, s.Sock)
	start := time.Now()
	dump := exec.Command("ovsdb-client", "dump", s.Remote(), "OVN_Southbound", "Port_Binding")
	dump.Stdout = io.Discard
	if err := dump.Run(); err != nil {
		b.Fatal(err)
	}
	dumpTime := time.Since(start)
	outAll, rssAll := runCount(b, bin, "--remote", s.Remote())
	outLocal, rssLocal := runCount(b, bin, "--remote", s.Remote(), "--chassis", "c0")

	var load time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		c, err := ovsdb.Connect(ctx, ovsdb.Southbound, ovsdb.Options{Remote: s.Remote(),
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		if n := c.Count(sbdb.PortBindingTable); n != benchPorts {
			b.Fatalf("rows=%d, want %d", n, benchPorts)
		}
		load += time.Since(start)
		c.Close()
	}
	b.StopTimer()
	per := load / time.Duration(b.N)
	b.ReportMetric(raw.Seconds(), "server-send-s")
	b.ReportMetric(per.Seconds(), "client-load-s")
	b.ReportMetric(per.Seconds()/raw.Seconds(), "load/send")
	b.ReportMetric(float64(rssAll)/1e6, "rss-all-MB")
	b.ReportMetric(float64(rssLocal)/1e6, "rss-chassis-MB")
	b.ReportMetric(dumpTime.Seconds(), "ovsdb-client-dump-s")
	fmt.Printf("southbound %d ports: server send %.2fs (%d MB), ovnbgp initial load %.2fs (%.2fx send), "+
		"ovsdb-client dump %.2fs (ovnbgp %.1fx faster); RSS unconditional %d MB (%s), chassis c0 with %d own ports %d MB (%s)\n",
		benchPorts, raw.Seconds(), bytes>>20, per.Seconds(), per.Seconds()/raw.Seconds(), dumpTime.Seconds(),
		dumpTime.Seconds()/per.Seconds(), rssAll>>20, outAll, benchLocalPorts, rssLocal>>20, outLocal)
}
