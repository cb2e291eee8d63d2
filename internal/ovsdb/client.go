package ovsdb

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

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
	// MaxMessageBytes bounds one message from the server (the monitor's
	// reply holds every initial row), MaxQueuedBytes the update2
	// notifications that wait while the initial rows are applied.
	// Exceeding either drops the connection (ErrLimit, counted in
	// ovnbgp_ovsdb_limit_exceeded_total) and it is retried with backoff;
	// the cache of the last generation is served meanwhile. Defaults
	// DefaultMaxMessageBytes and DefaultMaxQueuedBytes.
	MaxMessageBytes, MaxQueuedBytes int64
}

// Default limits: far above a 100,000-port cloud's largest message (the
// unconditional northbound download, about 150 MB; the southbound with
// this chassis' conditions is about 8.5 MB) and its updates during a
// download of a few seconds.
const (
	DefaultMaxMessageBytes = 1 << 30
	DefaultMaxQueuedBytes  = 256 << 20
)

// Client is a monitored, cached connection to one database.
type Client struct {
	spec DBSpec
	opts Options
	log  *slog.Logger

	mu    sync.RWMutex
	gen   *generation
	conds map[string][]Condition

	// srvMu guards the _Server state: the highest cluster index accepted
	// (a member behind it is stale) and each member's last refusal.
	srvMu     sync.Mutex
	minIndex  int64
	refusedAs map[string]string

	wake   chan string // reasons to build a new generation
	cancel context.CancelFunc
	done   chan struct{}
	closed bool
}

// generation is one connection with its monitor and cache.
type generation struct {
	id       int
	rpc      *rpcConn
	tables   map[string]*adaptedTable
	schema   ovsdb.DatabaseSchema
	endpoint string
	lost     chan struct{} // closed when the connection ends

	// applyMu orders the updates: the monitor's reply (the initial rows)
	// is applied by the dialing goroutine while the reader goes on reading
	// and answering the server's echo (a large initial download takes
	// seconds to apply, and ovsdb-server drops a client that does not
	// answer its probe); update2 notifications that arrive before the
	// initial rows are in wait in queued.
	applyMu sync.Mutex
	ready   bool
	queued  []json.RawMessage
	qbytes  int64 // the size of queued

	mu sync.RWMutex
	// rows: table -> UUID -> row, a pointer to the table's dynamic struct.
	// A cached row is never modified: a change replaces it.
	rows map[string]map[string]any
	// kept: table -> UUID -> the last good version (static model) of a
	// row the server has, under this generation's conditions, in a
	// version that cannot be read. Readers get it in place of the
	// unreadable one; it is carried to the next generation while the
	// server still sends the row, and dropped when the row is deleted,
	// leaves the conditions or becomes readable again (docs/design.md).
	kept map[string]map[string]any
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
	if opts.MaxMessageBytes <= 0 {
		opts.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if opts.MaxQueuedBytes <= 0 {
		opts.MaxQueuedBytes = DefaultMaxQueuedBytes
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
	// The counters alerts read exist from the start at 0 (docs/operations.md,
	// "Alerts"): an increase is only seen between two samples of a series.
	metricDisconnects.WithLabelValues(spec.Name)
	for _, t := range opts.Tables {
		metricMalformed.WithLabelValues(spec.Name, t)
	}
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
			c.log.Warn("ovsdb connection lost; serving the last known rows while reconnecting", "endpoint", g.endpoint, "error", g.rpc.cause())
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
	snap, kept := snapshot(g, c.opts.Tables)
	var events []Event
	if prev != nil {
		prevSnap, prevKept := snapshot(prev, c.opts.Tables)
		events = diffGenerations(prev, g, prevSnap, snap, prevKept, kept, c.opts.Tables)
	}
	c.gen = g
	for _, e := range events {
		if c.opts.OnEvent != nil {
			e.db = c.spec.Name
			c.opts.OnEvent(e)
		}
	}
	c.mu.Unlock()
	if prev != nil {
		prev.rpc.close()
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

// endpoints lists the remotes, in the configured order.
func (c *Client) endpoints() []string {
	var eps []string
	for _, r := range strings.Split(c.opts.Remote, ",") {
		if r = strings.TrimSpace(r); r != "" {
			eps = append(eps, r)
		}
	}
	return eps
}

// tlsForRemotes returns the TLS settings when a remote is ssl:, else nil.
func (c *Client) tlsForRemotes() (*tls.Config, error) {
	for _, r := range c.endpoints() {
		if strings.HasPrefix(r, "ssl:") {
			return c.tlsConfig()
		}
	}
	return nil, nil
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

// firstRemote runs try on each remote, in the configured order, until one
// succeeds; its error lists every remote's failure.
func (c *Client) firstRemote(ctx context.Context, try func(ep string, tlsCfg *tls.Config) error) error {
	tlsCfg, err := c.tlsForRemotes()
	if err != nil {
		return err
	}
	var errs []string
	for _, ep := range c.endpoints() {
		err := try(ep, tlsCfg)
		if err == nil {
			return nil
		}
		errs = append(errs, err.Error())
		if ctx.Err() != nil {
			break
		}
	}
	return fmt.Errorf("ovsdb %s: %s", c.spec.Name, strings.Join(errs, "; "))
}

// dial makes one generation on the first remote that accepts it.
func (c *Client) dial(ctx context.Context, conds map[string][]Condition, prev *generation) (*generation, error) {
	var g *generation
	err := c.firstRemote(ctx, func(ep string, tlsCfg *tls.Config) error {
		var err error
		g, err = c.dialOne(ctx, ep, tlsCfg, conds, prev)
		return err
	})
	return g, err
}

// monitorCondRequest is one table's monitor_cond request (RFC 7047 as
// extended by ovsdb-server(7)): the columns, and the conditions a row must
// match one of (none: every row).
type monitorCondRequest struct {
	Columns []string          `json:"columns"`
	Where   []ovsdb.Condition `json:"where,omitempty"`
}

// dialOne connects to one remote, reads the server's schema, fits the
// models to it and monitors the tables; the monitor's reply (the initial
// rows) fills the cache before any update that follows it is applied.
func (c *Client) dialOne(ctx context.Context, ep string, tlsCfg *tls.Config, conds map[string][]Condition, prev *generation) (*generation, error) {
	conn, err := dialEndpoint(ctx, ep, tlsCfg)
	if err != nil {
		return nil, err
	}
	g := &generation{id: 1, endpoint: ep, tables: map[string]*adaptedTable{}, lost: make(chan struct{}),
		rows: map[string]map[string]any{}, kept: map[string]map[string]any{}}
	if prev != nil {
		g.id = prev.id + 1
	}
	g.rpc = newRPCConn(conn, ep, func(method string, params json.RawMessage) {
		switch method {
		case "update2":
			c.update(g, params)
		case "update":
			c.serverUpdate(g, params)
		}
	}, rpcLimits{db: c.spec.Name, maxMessage: c.opts.MaxMessageBytes})
	ok := false
	defer func() {
		if !ok {
			g.rpc.close()
		}
	}()

	if err := c.checkServer(ctx, g.rpc, ep); err != nil {
		return nil, err
	}
	raw, err := g.rpc.call(ctx, "get_schema", []string{c.spec.Name})
	if err != nil {
		return nil, fmt.Errorf("get_schema: %w", err)
	}
	if err := json.Unmarshal(raw, &g.schema); err != nil {
		return nil, fmt.Errorf("ovsdb %s: %s: schema: %w", c.spec.Name, ep, err)
	}
	reqs := map[string][]monitorCondRequest{}
	for _, t := range c.opts.Tables {
		ts := g.schema.Table(t)
		if ts == nil {
			return nil, fmt.Errorf("ovsdb %s: server schema %s has no table %s", c.spec.Name, g.schema.Version, t)
		}
		at, err := adaptTable(t, c.spec.Tables[t], ts, c.spec.Optional[t])
		if err != nil {
			return nil, fmt.Errorf("ovsdb %s: %w", c.spec.Name, err)
		}
		g.tables[t] = at
		g.rows[t] = map[string]any{}
		wire, err := conditionsToWire(ts, conds[t])
		if err != nil {
			return nil, fmt.Errorf("ovsdb %s: %w", c.spec.Name, err)
		}
		reqs[t] = []monitorCondRequest{{Columns: at.columns, Where: wire}}
	}
	res, err := g.rpc.call(ctx, "monitor_cond", []any{c.spec.Name, monitorID, reqs})
	if err != nil {
		return nil, fmt.Errorf("monitor_cond: %w", err)
	}
	tu, err := decodeUpdates(res)
	if err != nil {
		return nil, fmt.Errorf("ovsdb %s: %s: monitor_cond reply: %w", c.spec.Name, ep, err)
	}
	res = nil
	c.apply(g, prev, tu, false) // without applyMu: until ready, the reader only queues
	g.applyMu.Lock()
	if err := g.rpc.cause(); err != nil {
		g.applyMu.Unlock()
		return nil, fmt.Errorf("ovsdb %s: %s: %w", c.spec.Name, ep, err)
	}
	for _, params := range g.queued {
		if !c.applyUpdate(g, prev, params, false) {
			g.applyMu.Unlock()
			return nil, fmt.Errorf("ovsdb %s: %s: an update after the initial rows could not be read", c.spec.Name, ep)
		}
	}
	g.queued, g.qbytes, g.ready = nil, 0, true
	g.applyMu.Unlock()
	ok = true
	go c.watch(g)
	return g, nil
}

// monitorID names the one monitor of a connection.
const monitorID = "ovnbgp"

// update applies an update2 notification of generation g, in order, and
// passes its events on; before the initial rows are in it is queued.
func (c *Client) update(g *generation, params json.RawMessage) {
	g.applyMu.Lock()
	defer g.applyMu.Unlock()
	if !g.ready {
		if g.rpc.cause() != nil {
			return
		}
		g.qbytes += int64(len(params))
		if g.qbytes > c.opts.MaxQueuedBytes {
			metricLimits.WithLabelValues(c.spec.Name, "queue").Inc()
			g.queued = nil
			g.rpc.fail(fmt.Errorf("%w: more than %d bytes of updates arrived during the initial download (ovsdb_max_queued_mb)", ErrLimit, c.opts.MaxQueuedBytes))
			return
		}
		g.queued = append(g.queued, params)
		return
	}
	c.applyUpdate(g, nil, params, true)
}

// applyUpdate decodes and applies one update2 notification (g.applyMu
// held). An update that cannot be read ends the connection, and false is
// returned: the next generation's full download repairs the cache.
func (c *Client) applyUpdate(g *generation, prev *generation, params json.RawMessage, forward bool) bool {
	id, tu, err := decodeUpdate2Params(params)
	if err != nil {
		c.log.Warn("ovsdb: unreadable update; reconnecting to read every row again", "endpoint", g.endpoint, "error", err)
		g.rpc.close()
		return false
	}
	if string(id) != `"`+monitorID+`"` {
		return true
	}
	for _, e := range c.apply(g, prev, tu, forward) {
		c.forward(g, e)
	}
	return true
}

// apply writes row updates into g's cache and returns their events (none
// for the initial rows: the generation switch diffs them). A row whose
// cells cannot be read is skipped, logged and counted; the others are
// applied. A row whose new version cannot be read (its cells, or their
// conversion to the static model) keeps its last good version in g.kept:
// the one of this generation, or, for the initial rows, of prev.
func (c *Client) apply(g, prev *generation, tu tableUpdates2, events bool) []Event {
	var out []Event
	emit := func(e Event) {
		if events {
			out = append(out, e)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for table, rows := range tu {
		at := g.tables[table]
		if at == nil {
			continue
		}
		cache := g.rows[table]
		for uuid, ru := range rows {
			old := cache[uuid]
			cells := ru.Insert
			if cells == nil {
				cells = ru.Initial
			}
			var row any
			var err error
			switch {
			case cells != nil:
				row, err = at.newRow(uuid, cells)
			case ru.Modify != nil && old != nil:
				row, err = at.modifyRow(old, ru.Modify)
			case ru.Modify != nil:
				err = errors.New("modify of a row not in the cache")
			default: // delete
				_, wasKept := g.kept[table][uuid]
				delete(g.kept[table], uuid)
				if old != nil || wasKept {
					delete(cache, uuid)
					emit(Event{Table: table, UUID: uuid, Op: OpDelete, old: old, oldAt: at})
				}
				continue
			}
			if err != nil {
				metricMalformed.WithLabelValues(c.spec.Name, table).Inc()
				c.log.Warn("ovsdb: row update skipped", "table", table, "uuid", uuid, "error", err)
				g.keepLastGood(prev, table, uuid, old)
				continue
			}
			if _, serr := at.toStatic(row); serr != nil {
				g.keepLastGood(prev, table, uuid, old)
			} else {
				delete(g.kept[table], uuid)
			}
			cache[uuid] = row
			op := OpAdd
			if old != nil {
				op = OpUpdate
			}
			emit(Event{Table: table, UUID: uuid, Op: op, old: old, new: row, oldAt: at, newAt: at})
		}
	}
	return out
}

// keepLastGood records, for a row of g whose new version cannot be read,
// its last good version (g.mu held): the one already kept, else old's
// (the row it replaces in g), else, for an initial row, prev's. A row with
// no good version before has none to keep.
func (g *generation) keepLastGood(prev *generation, table, uuid string, old any) {
	if _, ok := g.kept[table][uuid]; ok {
		return
	}
	var good any
	if old != nil {
		good = g.tables[table].goodVersion(old)
	}
	if good == nil && prev != nil && old == nil {
		prev.mu.RLock()
		good = prev.kept[table][uuid]
		if good == nil && prev.rows[table][uuid] != nil && prev.tables[table] != nil {
			good = prev.tables[table].goodVersion(prev.rows[table][uuid])
		}
		prev.mu.RUnlock()
	}
	if good == nil {
		return
	}
	if g.kept[table] == nil {
		g.kept[table] = map[string]any{}
	}
	g.kept[table][uuid] = good
}

// goodVersion returns row's static model when it reads, else nil.
func (at *adaptedTable) goodVersion(row any) any {
	s, err := at.toStatic(row)
	if err != nil {
		return nil
	}
	return s
}

// watch closes g.lost when the connection ends, and probes an idle
// connection so that a dead peer is noticed.
func (c *Client) watch(g *generation) {
	var tick <-chan time.Time
	if c.opts.ProbeInterval > 0 {
		t := time.NewTicker(c.opts.ProbeInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-g.rpc.done:
			close(g.lost)
			return
		case <-tick:
			ctx, cancel := context.WithTimeout(context.Background(), c.opts.ProbeInterval)
			_, err := g.rpc.call(ctx, "echo", []string{"ovnbgp"})
			cancel()
			if err != nil && g.rpc.cause() == nil {
				c.log.Warn("ovsdb echo probe failed; reconnecting", "endpoint", g.endpoint, "error", err)
				g.rpc.close()
			}
		}
	}
}

// forward passes a live event of generation g to the consumer, if g is current.
func (c *Client) forward(g *generation, e Event) {
	e.db = c.spec.Name
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.gen != g || c.opts.OnEvent == nil {
		return
	}
	c.opts.OnEvent(e)
}

func (c *Client) current() *generation {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// snapshot returns the cached rows of every table of g and the last good
// versions it keeps (shallow).
func snapshot(g *generation, tables []string) (rows, kept map[string]map[string]any) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	rows = make(map[string]map[string]any, len(tables))
	kept = make(map[string]map[string]any, len(tables))
	for _, t := range tables {
		rows[t] = maps.Clone(g.rows[t])
		kept[t] = maps.Clone(g.kept[t])
	}
	return rows, kept
}

// diffGenerations lists the row differences between two generations'
// snapshots. A row next keeps at its last good version has no event: that
// version came from prev, which the consumer has. A row prev kept that
// next has not at all is deleted.
func diffGenerations(prev, next *generation, prevRows, nextRows, prevKept, nextKept map[string]map[string]any, tables []string) []Event {
	var events []Event
	for _, t := range tables {
		pat, nat := prev.tables[t], next.tables[t]
		old, cur, nk := prevRows[t], nextRows[t], nextKept[t]
		keys := make([]string, 0, len(cur))
		for u := range cur {
			keys = append(keys, u)
		}
		sort.Strings(keys)
		for _, u := range keys {
			n := cur[u]
			o, ok := old[u]
			if _, kept := nk[u]; kept {
				continue
			}
			switch {
			case !ok:
				events = append(events, Event{Table: t, UUID: u, Op: OpAdd, new: n, newAt: nat})
			case !reflect.DeepEqual(o, n):
				events = append(events, Event{Table: t, UUID: u, Op: OpUpdate, old: o, new: n, oldAt: pat, newAt: nat})
			}
		}
		keys = keys[:0]
		for u := range old {
			_, kept := nk[u]
			if _, ok := cur[u]; !ok && !kept {
				keys = append(keys, u)
			}
		}
		for u := range prevKept[t] {
			_, kept := nk[u]
			_, inOld := old[u]
			if _, ok := cur[u]; !ok && !kept && !inOld {
				keys = append(keys, u) // a row prev kept without its cells
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
// no such row. A malformed row is an error, unless it has a last good
// version (see generation.kept), which is returned instead.
func (c *Client) Get(table, uuid string) (row any, ok bool, err error) {
	g := c.current()
	if g == nil {
		return nil, false, ErrClosed
	}
	at := g.tables[table]
	if at == nil {
		return nil, false, fmt.Errorf("ovsdb %s: table %s is not monitored", c.spec.Name, table)
	}
	g.mu.RLock()
	m := g.rows[table][uuid]
	kept := g.kept[table][uuid]
	g.mu.RUnlock()
	if kept != nil {
		return kept, true, nil
	}
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
// particular order, until fn returns false. Malformed rows are logged and
// counted, their number is returned, and they are skipped or, when they
// have one, served at their last good version.
func (c *Client) ForEach(table string, fn func(uuid string, row any) bool) (malformed int) {
	g := c.current()
	if g == nil {
		return 0
	}
	at := g.tables[table]
	if at == nil {
		return 0
	}
	type entry struct {
		uuid string
		row  any
	}
	g.mu.RLock()
	rows := make([]entry, 0, len(g.rows[table]))
	for u, m := range g.rows[table] {
		rows = append(rows, entry{u, m})
	}
	kept := maps.Clone(g.kept[table])
	g.mu.RUnlock()
	for u, k := range kept {
		malformed++
		c.log.Warn("ovsdb: malformed row; its last good version is served", "table", table, "uuid", u)
		if !fn(u, k) {
			return malformed
		}
	}
	for _, r := range rows {
		u := r.uuid
		if _, ok := kept[u]; ok {
			continue
		}
		s, err := at.toStatic(r.row)
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
	g.mu.RLock()
	defer g.mu.RUnlock()
	return len(g.rows[table])
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
	if g != nil {
		g.rpc.close()
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
	op := ovsdb.Operation{Op: ovsdb.OperationSelect, Table: table,
		Where: []ovsdb.Condition{{Column: column, Function: ovsdb.ConditionEqual, Value: value}}, Columns: []string{"_uuid"}}
	var raw json.RawMessage
	if err := c.firstRemote(ctx, func(ep string, tlsCfg *tls.Config) error {
		conn, err := dialEndpoint(ctx, ep, tlsCfg)
		if err != nil {
			return err
		}
		rpc := newRPCConn(conn, ep, nil, rpcLimits{db: spec.Name, maxMessage: opts.MaxMessageBytes})
		defer rpc.close()
		if err := c.checkServer(ctx, rpc, ep); err != nil {
			return err
		}
		raw, err = rpc.call(ctx, "transact", []any{spec.Name, op})
		return err
	}); err != nil {
		return "", err
	}
	var res []ovsdb.OperationResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return "", fmt.Errorf("ovsdb %s: select %s: %w", spec.Name, table, err)
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
