package ovsdb

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/ovn-kubernetes/libovsdb/cache"
	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"
)

// Op is the kind of a row change.
type Op int

// Row change kinds.
const (
	OpAdd Op = iota
	OpUpdate
	OpDelete
)

func (o Op) String() string {
	return [...]string{"add", "update", "delete"}[o]
}

// Event says that a row changed. Consumers should only note the key
// (Table, UUID), with the row New returns if they want it (a value nobody
// modifies; reading it again with Client.Get costs a deep copy), and process
// it later; Old is there for diagnostics and tests.
type Event struct {
	db    string
	Table string
	UUID  string
	Op    Op
	old   any
	new   any
	oldAt *adaptedTable
	newAt *adaptedTable
}

// Old returns the row before the change as its static model (nil for adds).
func (e Event) Old() (any, error) {
	if e.old == nil {
		return nil, nil
	}
	return e.oldAt.toStatic(e.old)
}

// New returns the row after the change as its static model (nil for
// deletes): a value the caller must not modify. A malformed row is an error,
// counted in ovnbgp_ovsdb_malformed_rows_total.
func (e Event) New() (any, error) {
	if e.new == nil {
		return nil, nil
	}
	row, err := e.newAt.toStatic(e.new)
	if err != nil {
		metricMalformed.WithLabelValues(e.db, e.Table).Inc()
	}
	return row, err
}

// Resync is delivered after every switch to a new connection generation:
// the first connection (Initial), every reconnect, every condition change.
// The events for the rows that differ from the previous generation have been
// delivered before it. Consumers run a full reconcile on it.
type Resync struct {
	Generation int
	Initial    bool
	Reason     string // "connect", "reconnect", "conditions"
	Endpoint   string
}

// TLSFiles are the SSL settings OVN daemons take: private key, certificate
// and CA certificate files. They are used for ssl: remotes only.
type TLSFiles struct {
	PrivateKey  string
	Certificate string
	CACert      string
}

// Options configure a Client.
type Options struct {
	// Remote is one remote or a comma-separated list (a clustered database):
	// unix:PATH, tcp:IP:PORT, ssl:IP:PORT (IPv6 as [addr]).
	Remote string
	TLS    TLSFiles
	Logger *slog.Logger
	// Tables restricts the monitored tables; default every table of the spec.
	Tables []string
	// Conditions are server-side monitor conditions per table; a table
	// without conditions is monitored whole. A row is monitored when it
	// matches any of its table's conditions.
	Conditions map[string][]Condition
	// OnEvent receives every row change. It is called from the connection's
	// event goroutine and must not block: enqueue the key and return.
	OnEvent func(Event)
	// OnResync is called after every generation switch (see Resync).
	OnResync func(Resync)
	// MinBackoff and MaxBackoff bound the reconnect delay (doubling from
	// min to max, forever). Defaults 100 ms and 5 s.
	MinBackoff, MaxBackoff time.Duration
	// Timeout bounds one connection attempt including the initial dump
	// (default 180 s, upstream's ovsdb_connection_timeout).
	Timeout time.Duration
	// ProbeInterval is the interval of echo probes that detect a dead
	// server on an idle connection, and a missed disconnect notification
	// (default 5 s; 0 keeps the default, negative disables).
	ProbeInterval time.Duration
}

// Client is a monitored, cached connection to one database.
type Client struct {
	spec DBSpec
	opts Options
	log  *slog.Logger

	mu    sync.RWMutex
	gen   *generation
	conds map[string][]Condition

	wake   chan string // reasons to build a new generation
	cancel context.CancelFunc
	done   chan struct{}
	closed bool
}

// generation is one connection with its monitor and cache.
type generation struct {
	id       int
	cli      client.Client
	cache    *cache.TableCache
	tables   map[string]*adaptedTable
	schema   ovsdb.DatabaseSchema
	endpoint string
	lost     chan struct{}
	// initial holds the UUIDs present when the generation became current.
	// libovsdb also emits an Add event per row of the initial dump, possibly
	// after the switch; those echoes are dropped (the switch already
	// accounted for the rows).
	initial map[string]struct{}
}

// ErrClosed is returned by calls on a closed client.
var ErrClosed = errors.New("ovsdb: client closed")

// Connect connects, monitors and fills the cache. It retries (with the
// reconnect backoff) until the first initial dump is in or ctx ends. After
// it returns, the client keeps itself connected until Close.
func Connect(ctx context.Context, spec DBSpec, opts Options) (*Client, error) {
	if opts.Remote == "" {
		return nil, fmt.Errorf("ovsdb %s: no remote", spec.Name)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 100 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 180 * time.Second
	}
	if opts.ProbeInterval == 0 {
		opts.ProbeInterval = 5 * time.Second
	}
	if len(opts.Tables) == 0 {
		for t := range spec.Tables {
			opts.Tables = append(opts.Tables, t)
		}
		sort.Strings(opts.Tables)
	}
	for _, t := range opts.Tables {
		if _, ok := spec.Tables[t]; !ok {
			return nil, fmt.Errorf("ovsdb %s: table %s is not in the model", spec.Name, t)
		}
	}
	c := &Client{
		spec:  spec,
		opts:  opts,
		log:   opts.Logger.With("db", spec.Name),
		conds: copyConds(opts.Conditions),
		wake:  make(chan string, 1),
		done:  make(chan struct{}),
	}
	metricConnected.WithLabelValues(spec.Name).Set(0)
	if err := c.retry(ctx, "connect"); err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go c.run(runCtx)
	return c, nil
}

// retry builds generations until one succeeds or ctx ends.
func (c *Client) retry(ctx context.Context, reason string) error {
	delay := c.opts.MinBackoff
	for attempt := 1; ; attempt++ {
		err := c.switchGeneration(ctx, reason)
		if err == nil {
			return nil
		}
		metricConnectErrors.WithLabelValues(c.spec.Name).Inc()
		if attempt <= 3 || attempt%20 == 0 {
			c.log.Warn("ovsdb connection failed, retrying", "remote", c.opts.Remote, "attempt", attempt, "retry_in", delay, "error", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("ovsdb %s: %w (last error: %v)", c.spec.Name, ctx.Err(), err)
		case <-time.After(delay):
		}
		delay *= 2
		if delay > c.opts.MaxBackoff {
			delay = c.opts.MaxBackoff
		}
	}
}

// run waits for the current generation to be lost or for a condition
// change, and builds the next one, forever.
func (c *Client) run(ctx context.Context) {
	defer close(c.done)
	for {
		c.mu.RLock()
		g := c.gen
		c.mu.RUnlock()
		var reason string
		select {
		case <-ctx.Done():
			return
		case <-g.lost:
			reason = "reconnect"
			metricConnected.WithLabelValues(c.spec.Name).Set(0)
			metricDisconnects.WithLabelValues(c.spec.Name).Inc()
			c.log.Warn("ovsdb connection lost; serving the last known rows while reconnecting", "endpoint", g.endpoint)
		case reason = <-c.wake:
		}
		if err := c.retry(ctx, reason); err != nil {
			return // ctx ended: Close
		}
	}
}

// switchGeneration connects anew with the current conditions, waits for the
// initial dump, emits the differences to the previous generation and makes
// the new one current.
func (c *Client) switchGeneration(ctx context.Context, reason string) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	c.mu.RLock()
	conds := copyConds(c.conds)
	prev := c.gen
	c.mu.RUnlock()

	start := time.Now()
	g, err := c.dial(ctx, conds, prev)
	if err != nil {
		return err
	}
	c.mu.Lock()
	snap := snapshot(g, c.opts.Tables)
	g.initial = make(map[string]struct{})
	for _, rows := range snap {
		for u := range rows {
			g.initial[u] = struct{}{}
		}
	}
	var events []Event
	if prev != nil {
		events = diffGenerations(prev, g, snapshot(prev, c.opts.Tables), snap, c.opts.Tables)
	}
	c.gen = g
	for _, e := range events {
		if c.opts.OnEvent != nil {
			e.db = c.spec.Name
			c.opts.OnEvent(e)
		}
	}
	c.mu.Unlock()
	if prev != nil && prev.cli != nil {
		prev.cli.Close()
	}
	metricConnected.WithLabelValues(c.spec.Name).Set(1)
	metricResyncs.WithLabelValues(c.spec.Name, reason).Inc()
	c.log.Info("ovsdb monitor ready", "endpoint", g.endpoint, "generation", g.id, "reason", reason,
		"changed_rows", len(events), "seconds", time.Since(start).Seconds())
	if c.opts.OnResync != nil {
		c.opts.OnResync(Resync{Generation: g.id, Initial: prev == nil, Reason: reason, Endpoint: g.endpoint})
	}
	return nil
}

func (c *Client) clientOptions() ([]client.Option, error) {
	l := logr.FromSlogHandler(c.log.Handler())
	opts := []client.Option{client.WithLogger(&l)}
	var hasSSL bool
	for _, r := range strings.Split(c.opts.Remote, ",") {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		if strings.HasPrefix(r, "ssl:") {
			hasSSL = true
		}
		opts = append(opts, client.WithEndpoint(r))
	}
	if hasSSL {
		cfg, err := c.tlsConfig()
		if err != nil {
			return nil, err
		}
		opts = append(opts, client.WithTLSConfig(cfg))
	}
	return opts, nil
}

func (c *Client) tlsConfig() (*tls.Config, error) {
	f := c.opts.TLS
	cert, err := tls.LoadX509KeyPair(f.Certificate, f.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("ovsdb %s: ssl certificate %s / private key %s: %w", c.spec.Name, f.Certificate, f.PrivateKey, err)
	}
	ca, err := os.ReadFile(f.CACert)
	if err != nil {
		return nil, fmt.Errorf("ovsdb %s: ssl CA certificate: %w", c.spec.Name, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("ovsdb %s: no certificate in CA file %s", c.spec.Name, f.CACert)
	}
	// OVN's certificates name the node, not the address it is reached at
	// (ovs-pki certificates carry no subjectAltName): verify the chain
	// against the CA as OVN's own daemons do, without a host name check.
	return &tls.Config{
		Certificates:       []tls.Certificate{cert},
		RootCAs:            pool,
		InsecureSkipVerify: true, //nolint:gosec // verified below against the CA
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("server sent no certificate")
			}
			inter := x509.NewCertPool()
			for _, ic := range cs.PeerCertificates[1:] {
				inter.AddCert(ic)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter})
			return err
		},
		MinVersion: tls.VersionTLS12,
	}, nil
}

// dial makes one generation: fetch the schema, adapt the models, connect,
// monitor.
func (c *Client) dial(ctx context.Context, conds map[string][]Condition, prev *generation) (*generation, error) {
	copts, err := c.clientOptions()
	if err != nil {
		return nil, err
	}
	// 1. The server's schema, through a connection with an empty model.
	probe, err := c.connectEmpty(ctx, copts)
	if err != nil {
		return nil, err
	}
	schema := probe.Schema()
	probe.Close()

	// 2. Models fitted to that schema.
	g := &generation{schema: schema, tables: map[string]*adaptedTable{}, lost: make(chan struct{})}
	if prev != nil {
		g.id = prev.id + 1
	} else {
		g.id = 1
	}
	models := map[string]model.Model{}
	for _, t := range c.opts.Tables {
		ts := schema.Table(t)
		if ts == nil {
			return nil, fmt.Errorf("ovsdb %s: server schema %s has no table %s", c.spec.Name, schema.Version, t)
		}
		at, err := adaptTable(t, c.spec.Tables[t], ts, c.spec.Optional[t])
		if err != nil {
			return nil, err
		}
		g.tables[t] = at
		models[t] = at.newDynamic()
	}
	// 3. The real connection.
	cli, err := c.connectModel(ctx, models, copts)
	if err != nil {
		return nil, err
	}
	g.cli = cli
	g.endpoint = cli.CurrentEndpoint()
	cli.Cache().AddEventHandler(&cache.EventHandlerFuncs{
		AddFunc: func(table string, m model.Model) {
			c.forward(g, Event{Table: table, Op: OpAdd, new: m, newAt: g.tables[table]})
		},
		UpdateFunc: func(table string, old, m model.Model) {
			c.forward(g, Event{Table: table, Op: OpUpdate, old: old, new: m, oldAt: g.tables[table], newAt: g.tables[table]})
		},
		DeleteFunc: func(table string, m model.Model) {
			c.forward(g, Event{Table: table, Op: OpDelete, old: m, oldAt: g.tables[table]})
		},
	})
	mon := &client.Monitor{Method: ovsdb.ConditionalMonitorSinceRPC, LastTransactionID: "00000000-0000-0000-0000-000000000000"}
	for _, t := range c.opts.Tables {
		at := g.tables[t]
		tm := client.TableMonitor{Table: t, Fields: at.columns}
		wire, err := conditionsToWire(schema.Table(t), conds[t])
		if err != nil {
			cli.Close()
			return nil, err
		}
		tm.Conditions = wire
		mon.Tables = append(mon.Tables, tm)
	}
	if _, err := cli.Monitor(ctx, mon); err != nil {
		cli.Close()
		return nil, fmt.Errorf("ovsdb %s: monitor: %w", c.spec.Name, err)
	}
	// rpc2's JSON codec keeps the last response it read until the next
	// response replaces it, and updates are requests: without another
	// call, the raw monitor reply (the whole initial download, 8.5 MB at
	// 100,000 ports) stays in memory until the first probe. A small echo
	// reply replaces it now. Its failure is the connection's, which watch
	// notices.
	_ = cli.Echo(ctx)
	g.cache = cli.Cache()
	go c.watch(g)
	return g, nil
}

// watch closes g.lost when the connection ends, and probes an idle
// connection so that a dead peer is noticed.
func (c *Client) watch(g *generation) {
	notify := g.cli.DisconnectNotify()
	var tick <-chan time.Time
	if c.opts.ProbeInterval > 0 {
		t := time.NewTicker(c.opts.ProbeInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-notify:
			close(g.lost)
			return
		case <-tick:
			ctx, cancel := context.WithTimeout(context.Background(), c.opts.ProbeInterval)
			err := g.cli.Echo(ctx)
			cancel()
			if err != nil && c.current() == g {
				// libovsdb sends its disconnect notification without
				// blocking, so a notification can be missed: a failed probe
				// ends the generation by itself.
				c.log.Warn("ovsdb echo probe failed; reconnecting", "endpoint", g.endpoint, "error", err)
				g.cli.Disconnect()
				close(g.lost)
				return
			}
		}
	}
}

// forward passes a live event of generation g to the consumer, if g is current.
func (c *Client) forward(g *generation, e Event) {
	at := g.tables[e.Table]
	if at == nil {
		return
	}
	if e.new != nil {
		e.UUID = at.uuidOf(e.new)
	} else {
		e.UUID = at.uuidOf(e.old)
	}
	e.db = c.spec.Name
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.gen != g || c.opts.OnEvent == nil {
		return
	}
	if e.Op == OpAdd {
		if _, echo := g.initial[e.UUID]; echo {
			return
		}
	}
	c.opts.OnEvent(e)
}

func (c *Client) current() *generation {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// snapshot returns the cached rows of every table of g (shallow).
func snapshot(g *generation, tables []string) map[string]map[string]model.Model {
	s := make(map[string]map[string]model.Model, len(tables))
	for _, t := range tables {
		if rc := g.cache.Table(t); rc != nil {
			s[t] = rc.RowsShallow()
		}
	}
	return s
}

// diffGenerations lists the row differences between two generations' snapshots.
func diffGenerations(prev, next *generation, prevRows, nextRows map[string]map[string]model.Model, tables []string) []Event {
	var events []Event
	for _, t := range tables {
		pat, nat := prev.tables[t], next.tables[t]
		old, cur := prevRows[t], nextRows[t]
		keys := make([]string, 0, len(cur))
		for u := range cur {
			keys = append(keys, u)
		}
		sort.Strings(keys)
		for _, u := range keys {
			n := cur[u]
			o, ok := old[u]
			switch {
			case !ok:
				events = append(events, Event{Table: t, UUID: u, Op: OpAdd, new: n, newAt: nat})
			case !reflect.DeepEqual(o, n):
				events = append(events, Event{Table: t, UUID: u, Op: OpUpdate, old: o, new: n, oldAt: pat, newAt: nat})
			}
		}
		keys = keys[:0]
		for u := range old {
			if _, ok := cur[u]; !ok {
				keys = append(keys, u)
			}
		}
		sort.Strings(keys)
		for _, u := range keys {
			events = append(events, Event{Table: t, UUID: u, Op: OpDelete, old: old[u], oldAt: pat})
		}
	}
	return events
}

// Get returns the current row of table with the given UUID as its static
// model (a pointer the caller must not modify), or ok=false when there is
// no such row. A malformed row is an error.
func (c *Client) Get(table, uuid string) (row any, ok bool, err error) {
	g := c.current()
	if g == nil {
		return nil, false, ErrClosed
	}
	at := g.tables[table]
	if at == nil {
		return nil, false, fmt.Errorf("ovsdb %s: table %s is not monitored", c.spec.Name, table)
	}
	rc := g.cache.Table(table)
	if rc == nil {
		return nil, false, nil
	}
	m := rc.Row(uuid)
	if m == nil {
		return nil, false, nil
	}
	s, err := at.toStatic(m)
	if err != nil {
		metricMalformed.WithLabelValues(c.spec.Name, table).Inc()
		return nil, false, err
	}
	return s, true, nil
}

// ForEach calls fn with every row of table as its static model, in no
// particular order, until fn returns false. Malformed rows are skipped,
// logged and counted; their number is returned.
func (c *Client) ForEach(table string, fn func(uuid string, row any) bool) (malformed int) {
	g := c.current()
	if g == nil {
		return 0
	}
	at := g.tables[table]
	rc := g.cache.Table(table)
	if at == nil || rc == nil {
		return 0
	}
	for u, m := range rc.RowsShallow() {
		s, err := at.toStatic(m)
		if err != nil {
			malformed++
			metricMalformed.WithLabelValues(c.spec.Name, table).Inc()
			c.log.Warn("ovsdb: malformed row skipped", "table", table, "uuid", u, "error", err)
			continue
		}
		if !fn(u, s) {
			break
		}
	}
	return malformed
}

// Count returns the number of cached rows of table.
func (c *Client) Count(table string) int {
	g := c.current()
	if g == nil {
		return 0
	}
	if rc := g.cache.Table(table); rc != nil {
		return rc.Len()
	}
	return 0
}

// Schema returns the server schema of the current connection.
func (c *Client) Schema() ovsdb.DatabaseSchema {
	if g := c.current(); g != nil {
		return g.schema
	}
	return ovsdb.DatabaseSchema{}
}

// HasColumn reports whether the server's table has the column (e.g. NB
// Logical_Router_Port status, from OVN 23.09).
func (c *Client) HasColumn(table, column string) bool {
	s := c.Schema()
	ts := s.Table(table)
	return ts != nil && ts.Column(column) != nil
}

// Endpoint returns the remote of the current connection.
func (c *Client) Endpoint() string {
	if g := c.current(); g != nil {
		return g.endpoint
	}
	return ""
}

// Generation returns the number of the current connection generation.
func (c *Client) Generation() int {
	if g := c.current(); g != nil {
		return g.id
	}
	return 0
}

// SetConditions replaces the monitor conditions. The change is applied by
// a new generation in the background: its rows are diffed against the
// current ones, events are delivered for the differences, then OnResync.
func (c *Client) SetConditions(conds map[string][]Condition) {
	c.mu.Lock()
	same := reflect.DeepEqual(c.conds, conds)
	if !same {
		c.conds = copyConds(conds)
	}
	c.mu.Unlock()
	if same {
		return
	}
	select {
	case c.wake <- "conditions":
	default: // a switch is already pending; it reads the latest conditions
	}
}

// Close disconnects and stops reconnecting. Reads after Close return nothing.
func (c *Client) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.mu.Unlock()
	if c.cancel != nil {
		c.cancel()
		<-c.done
	}
	c.mu.Lock()
	g := c.gen
	c.gen = nil
	c.mu.Unlock()
	if g != nil && g.cli != nil {
		g.cli.Close()
	}
	metricConnected.WithLabelValues(c.spec.Name).Set(0)
}

func copyConds(in map[string][]Condition) map[string][]Condition {
	if in == nil {
		return nil
	}
	out := make(map[string][]Condition, len(in))
	for k, v := range in {
		out[k] = append([]Condition(nil), v...)
	}
	return out
}

// connectEmpty connects with an empty model: the server's schema, and
// transactions checked against it only, without a monitor or a cache.
func (c *Client) connectEmpty(ctx context.Context, copts []client.Option) (client.Client, error) {
	return c.connectModel(ctx, map[string]model.Model{}, copts)
}

// connectModel connects a libovsdb client whose model has the given tables.
func (c *Client) connectModel(ctx context.Context, models map[string]model.Model, copts []client.Option) (client.Client, error) {
	dbModel, err := model.NewClientDBModel(c.spec.Name, models)
	if err != nil {
		return nil, err
	}
	cli, err := client.NewOVSDBClient(dbModel, copts...)
	if err != nil {
		return nil, err
	}
	if err := cli.Connect(ctx); err != nil {
		return nil, err
	}
	return cli, nil
}

// LookupUUID reads, once, the _uuid of the row of table whose column equals
// value (a select through a short-lived connection to opts.Remote), or ""
// when there is none. The southbound source uses it to monitor with the
// conditions on its Chassis row from the first connection on, instead of
// loading everything a second time once the UUID is known.
func LookupUUID(ctx context.Context, spec DBSpec, opts Options, table, column, value string) (string, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	c := &Client{spec: spec, opts: opts, log: opts.Logger.With("db", spec.Name)}
	copts, err := c.clientOptions()
	if err != nil {
		return "", err
	}
	cli, err := c.connectEmpty(ctx, copts)
	if err != nil {
		return "", err
	}
	defer cli.Close()
	res, err := cli.Transact(ctx, ovsdb.Operation{Op: ovsdb.OperationSelect, Table: table,
		Where: []ovsdb.Condition{{Column: column, Function: ovsdb.ConditionEqual, Value: value}}, Columns: []string{"_uuid"}})
	if err != nil {
		return "", err
	}
	if len(res) != 1 || res[0].Error != "" {
		return "", fmt.Errorf("ovsdb %s: select %s where %s == %q failed: %+v", spec.Name, table, column, value, res)
	}
	for _, row := range res[0].Rows {
		if u, ok := row["_uuid"].(ovsdb.UUID); ok {
			return u.GoUUID, nil
		}
	}
	return "", nil
}
