package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/nbdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/topology"
)

// Identity is who this chassis is, read from the local Open_vSwitch row.
type Identity struct {
	SystemID  string // external_ids:system-id = SB Chassis name
	Hostname  string // external_ids:hostname (NB driver binds ports by host)
	SBRemote  string // external_ids:ovn-remote
	NBRemote  string // external_ids:ovn-nb-remote
	Overrides bool   // SystemID/Hostname were given on the command line
}

// key is one row to re-read: database, table, uuid.
type key struct {
	db    string
	table string
	uuid  string
}

// change is the last known state of a dirty key: its row as the key's last
// event gave it (a value nobody modifies: the ovsdb client replaces cached
// rows, it does not mutate them), or gone, or the error of a malformed row.
type change struct {
	row  any
	gone bool
	err  error
	at   time.Time // when the key was first marked since the last drain (set by add)
}

// dirtySet collects keys from the OVSDB callbacks (which must not block)
// for the controller goroutine. Level-triggered: a key marked twice is
// processed once, with its last state.
type dirtySet struct {
	mu   sync.Mutex
	keys map[key]change
	kick chan struct{}
}

func newDirtySet() *dirtySet {
	return &dirtySet{keys: map[key]change{}, kick: make(chan struct{}, 1)}
}

// add marks the keys with the change, all under one lock: the controller
// drains either none or all of them.
func (d *dirtySet) add(c change, ks ...key) {
	now := time.Now()
	d.mu.Lock()
	for _, k := range ks {
		c.at = now
		if old, ok := d.keys[k]; ok {
			c.at = old.at
		}
		d.keys[k] = c
	}
	d.mu.Unlock()
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

func (d *dirtySet) pending() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.keys) > 0
}

func (d *dirtySet) take() map[key]change {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.keys) == 0 {
		return nil
	}
	out := d.keys
	d.keys = make(map[key]change, len(out))
	return out
}

// Source owns the OVSDB connections and the topology they feed. Callbacks
// only mark keys dirty (with the row of the event); Drain (called by the
// controller goroutine) updates the topology.
type Source struct {
	cfg  *config.Config
	log  *slog.Logger
	Topo *topology.Topology
	ID   Identity

	ovs *ovsdb.Client
	ovn *ovsdb.Client // SB or NB, per cfg.Driver
	nb  bool

	dirty   *dirtySet
	started atomic.Bool       // Start returned: resyncs go to the controller
	resyncs chan ovsdb.Resync // after startup: every reconnect / condition switch of either database

	condMu sync.Mutex
	need   ovsdb.SouthboundNeed
}

const (
	dbOVS = "ovs"
	dbOVN = "ovn"
)

// NewSource prepares a source; Start connects. id may carry command-line
// overrides of the system-id and hostname (`ovnbgp plan --chassis`).
func NewSource(cfg *config.Config, log *slog.Logger, id Identity) *Source {
	return &Source{cfg: cfg, log: log, Topo: topology.New(), ID: id, nb: cfg.Driver == config.DriverNB,
		dirty: newDirtySet(), resyncs: make(chan ovsdb.Resync, 16)}
}

// Kick is signalled whenever keys are dirty.
func (s *Source) Kick() <-chan struct{} { return s.dirty.kick }

// Resyncs delivers the generation switches of both databases after Start
// (reconnects, condition changes): the controller reloads the topology and
// runs a full reconcile on each.
func (s *Source) Resyncs() <-chan ovsdb.Resync { return s.resyncs }

// OVN returns the OVN database client (nil before Start).
func (s *Source) OVN() *ovsdb.Client { return s.ovn }

// OVS returns the local Open_vSwitch client (nil before Start).
func (s *Source) OVS() *ovsdb.Client { return s.ovs }

// Start connects to the local OVS database, learns the chassis identity,
// connects to the OVN database with this chassis' conditions and loads the
// topology. It returns when the topology holds everything the first plan
// needs (so that the first reconcile withdraws nothing that is healthy).
// It retries until ctx ends.
func (s *Source) Start(ctx context.Context) error {
	var err error
	s.ovs, err = ovsdb.Connect(ctx, ovsdb.VSwitch, ovsdb.Options{
		Remote: s.cfg.OVSDBConnection, Logger: s.log, OnEvent: s.onEvent(dbOVS),
		Timeout: s.cfg.OVSDBConnectionTimeout, MaxMessageBytes: s.maxMessage(), MaxQueuedBytes: s.maxQueued(),
		OnResync: func(r ovsdb.Resync) {
			if s.started.Load() {
				s.resync(r)
			}
		},
	})
	if err != nil {
		return fmt.Errorf("local OVS database %s: %w", s.cfg.OVSDBConnection, err)
	}
	s.loadAll(s.ovs, ovsdb.VSwitch)
	if err := s.waitIdentity(ctx); err != nil {
		return err
	}
	remote, tlsFiles := s.ovnRemote()
	for _, w := range identityTCPWarnings(s.cfg, s.ID, s.nb) {
		s.log.Warn(w)
	}
	if remote == "" {
		if s.nb {
			return errors.New("no northbound remote: set [ovn] ovn_nb_connection or external_ids:ovn-nb-remote in the local OVS database")
		}
		return errors.New("no southbound remote: set [ovn] ovn_sb_connection or external_ids:ovn-remote in the local OVS database")
	}
	spec := s.ovnSpec()
	first := make(chan ovsdb.Resync, 16)
	opts := ovsdb.Options{Remote: remote, TLS: tlsFiles, Logger: s.log, OnEvent: s.onEvent(dbOVN),
		Timeout: s.cfg.OVSDBConnectionTimeout, MaxMessageBytes: s.maxMessage(), MaxQueuedBytes: s.maxQueued(),
		ProbeInterval: s.cfg.OVNBGP.OVSDBProbeInterval,
		OnResync: func(r ovsdb.Resync) {
			if s.started.Load() {
				s.resync(r)
				return
			}
			select {
			case first <- r:
			default:
			}
		}}
	if !s.nb {
		s.need = ovsdb.SouthboundNeed{Chassis: s.ID.SystemID}
		// With this chassis' UUID known before the monitor starts, the rows
		// bound here come with the first connection; otherwise they come
		// with a second one, once the Chassis row is in (a whole second
		// download of the southbound's rows).
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		u, err := ovsdb.LookupUUID(lctx, spec, opts, sbdb.ChassisTable, "name", s.ID.SystemID)
		cancel()
		if err != nil {
			s.log.Debug("chassis lookup before monitoring failed; the monitor learns it", "chassis", s.ID.SystemID, "error", err)
		}
		s.need.ChassisUUID = u
		opts.Conditions = ovsdb.SouthboundConditions(s.need)
	}
	s.log.Info("connecting to OVN", "db", spec.Name, "remote", remote)
	s.ovn, err = ovsdb.Connect(ctx, spec, opts)
	if err != nil {
		return fmt.Errorf("%s %s: %w", spec.Name, remote, err)
	}
	if err := waitResync(ctx, first); err != nil {
		return err
	}
	s.loadAll(s.ovn, spec)
	if s.nb && !s.ovn.HasColumn(nbdb.LogicalRouterPortTable, "status") {
		s.log.Warn("this OVN northbound database has no Logical_Router_Port status column (OVN < 23.09): " +
			"it does not say which chassis hosts a router gateway, so nothing behind a gateway (gateway IPs, " +
			"centralized FIPs, tenant networks, load balancers) is announced; use driver = ovn_bgp_driver or upgrade OVN")
	}
	if !s.nb {
		// The rows bound here are selected by this chassis' UUID, known
		// only once the Chassis table is in.
		for {
			s.Topo.RLock()
			u := s.Topo.ChassisUUID(s.ID.SystemID)
			s.Topo.RUnlock()
			if u != "" {
				if s.setNeed(func(n *ovsdb.SouthboundNeed) { n.ChassisUUID = u }) {
					if err := waitResync(ctx, first); err != nil {
						return err
					}
					s.Reload()
				}
				break
			}
			s.log.Warn("waiting for this chassis to register in the southbound database", "chassis", s.ID.SystemID)
			if err := s.pause(ctx); err != nil {
				return err
			}
		}
	}
	s.started.Store(true)
	return nil
}

// maxMessage and maxQueued are the OVSDB limits of [ovnbgp]
// ovsdb_max_message_mb and ovsdb_max_queued_mb, in bytes.
func (s *Source) maxMessage() int64 { return int64(s.cfg.OVNBGP.OVSDBMaxMessageMB) << 20 }
func (s *Source) maxQueued() int64  { return int64(s.cfg.OVNBGP.OVSDBMaxQueuedMB) << 20 }

// resync hands a generation switch to the controller.
func (s *Source) resync(r ovsdb.Resync) {
	select {
	case s.resyncs <- r:
	default: // a full reconcile is already pending
	}
}

// loadAll puts every row of the client's first generation in the topology
// (the first generation delivers no per-row events; later ones deliver the
// differences).
func (s *Source) loadAll(c *ovsdb.Client, spec ovsdb.DBSpec) {
	s.Drain()
	s.loadRows(c, spec)
}

// Reload rebuilds the topology from the clients' caches, after a switch to
// a new connection: the events of the difference between two connections
// compare their caches, not what this source was delivered, so a row whose
// last events were still queued when the old connection was dropped would
// otherwise stay stale. The controller runs a full reconcile next.
func (s *Source) Reload() {
	s.dirty.take()
	s.Topo.Reset()
	if s.ovs != nil {
		s.loadRows(s.ovs, ovsdb.VSwitch)
	}
	if s.ovn != nil {
		s.loadRows(s.ovn, s.ovnSpec())
	}
}

// ovnSpec is the OVN database the driver reads: the southbound, or the
// northbound for the NB driver.
func (s *Source) ovnSpec() ovsdb.DBSpec {
	if s.nb {
		return ovsdb.Northbound
	}
	return ovsdb.Southbound
}

func (s *Source) loadRows(c *ovsdb.Client, spec ovsdb.DBSpec) {
	for table := range spec.Tables {
		c.ForEach(table, func(_ string, row any) bool {
			s.Topo.Upsert(row)
			return true
		})
	}
}

// SetNeededDatapaths changes the extra southbound datapaths monitored whole
// (tenant switches behind the routers this chassis is gateway of). It
// returns true when the conditions changed (a resync follows).
func (s *Source) SetNeededDatapaths(dps []string) bool {
	if s.nb {
		return false
	}
	dps = append([]string(nil), dps...)
	sort.Strings(dps)
	return s.setNeed(func(n *ovsdb.SouthboundNeed) { n.Datapaths = dps })
}

func (s *Source) setNeed(fn func(*ovsdb.SouthboundNeed)) bool {
	s.condMu.Lock()
	defer s.condMu.Unlock()
	old := s.need
	old.Datapaths = append([]string(nil), s.need.Datapaths...)
	fn(&s.need)
	if old.ChassisUUID == s.need.ChassisUUID && equalStrings(old.Datapaths, s.need.Datapaths) {
		return false
	}
	s.ovn.SetConditions(ovsdb.SouthboundConditions(s.need))
	return true
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func waitResync(ctx context.Context, ch <-chan ovsdb.Resync) error {
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pause waits before a start-up retry: 2 s, or until rows change (which it
// applies to the topology).
func (s *Source) pause(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-s.Kick():
		s.Drain()
	case <-time.After(2 * time.Second):
	}
	return nil
}

// waitIdentity reads system-id and hostname from the local Open_vSwitch row.
func (s *Source) waitIdentity(ctx context.Context) error {
	for {
		s.Topo.RLock()
		o := s.Topo.OpenVSwitch()
		var ids map[string]string
		if o != nil {
			ids = o.ExternalIDs
		}
		s.Topo.RUnlock()
		if ids != nil {
			if !s.ID.Overrides || s.ID.SystemID == "" {
				s.ID.SystemID = ids["system-id"]
			}
			if !s.ID.Overrides || s.ID.Hostname == "" {
				s.ID.Hostname = ids["hostname"]
			}
			s.ID.SBRemote, s.ID.NBRemote = ids["ovn-remote"], ids["ovn-nb-remote"]
			if s.ID.SystemID != "" {
				if s.ID.Hostname == "" {
					s.ID.Hostname = s.ID.SystemID
				}
				return nil
			}
		}
		s.log.Warn("waiting for external_ids:system-id in the local OVS database")
		if err := s.pause(ctx); err != nil {
			return err
		}
	}
}

func (s *Source) ovnRemote() (string, ovsdb.TLSFiles) {
	if s.nb {
		r := s.cfg.OVN.NBConnection
		if r == "" {
			r = s.ID.NBRemote
		}
		return r, ovsdb.TLSFiles{PrivateKey: s.cfg.OVN.NBPrivateKey, Certificate: s.cfg.OVN.NBCertificate, CACert: s.cfg.OVN.NBCACert}
	}
	r := s.cfg.OVN.SBConnection
	if r == "" {
		r = s.ID.SBRemote
	}
	return r, ovsdb.TLSFiles{PrivateKey: s.cfg.OVN.SBPrivateKey, Certificate: s.cfg.OVN.SBCertificate, CACert: s.cfg.OVN.SBCACert}
}

func (s *Source) onEvent(db string) func(ovsdb.Event) {
	return func(e ovsdb.Event) {
		var c change
		if e.Op == ovsdb.OpDelete {
			c.gone = true
		} else {
			c.row, c.err = e.New()
		}
		s.dirty.add(c, key{db: db, table: e.Table, uuid: e.UUID})
	}
}

// Pending reports whether keys are dirty.
func (s *Source) Pending() bool { return s.dirty.pending() }

// Drain applies every dirty key to the topology (the row of its last event)
// and returns the planner sources they concern, sorted, and when each
// dirty key was first marked (for ovnbgp_change_latency_seconds). The row
// comes from the event: a cache read would cost a lock and a conversion
// per change.
func (s *Source) Drain() ([]plan.RowRef, []time.Time) {
	keys := s.dirty.take()
	if len(keys) == 0 {
		return nil, nil
	}
	out := make([]plan.RowRef, 0, len(keys))
	marked := make([]time.Time, 0, len(keys))
	for k, c := range keys {
		marked = append(marked, c.at)
		switch {
		case c.err != nil:
			// A malformed row keeps its last good version in the
			// topology: bad input never withdraws what was healthy. The
			// client counted it (ovnbgp_ovsdb_malformed_rows_total).
			s.log.Warn("malformed row ignored; its last good version is kept", "table", k.table, "uuid", k.uuid, "error", c.err)
			continue
		case c.gone:
			s.Topo.Delete(k.table, k.uuid)
		default:
			s.Topo.Upsert(c.row)
		}
		out = append(out, plan.RowRef{Table: k.table, UUID: k.uuid})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Table != out[j].Table {
			return out[i].Table < out[j].Table
		}
		return out[i].UUID < out[j].UUID
	})
	return out, marked
}

// Close disconnects.
func (s *Source) Close() {
	if s.ovn != nil {
		s.ovn.Close()
	}
	if s.ovs != nil {
		s.ovs.Close()
	}
}

// tablesOf lists the tables whose rows the planner reads (for `status`).
var tablesOf = map[bool][]string{
	false: {sbdb.PortBindingTable, sbdb.ChassisTable, sbdb.DatapathBindingTable, sbdb.LoadBalancerTable},
	true:  {nbdb.LogicalSwitchPortTable, nbdb.LogicalRouterPortTable, nbdb.NATTable, nbdb.LoadBalancerTable},
}
