// Package ovsdb is ovnbgp's OVSDB client for the OVN southbound and
// northbound databases and the chassis' local Open_vSwitch database: the
// JSON-RPC connection, monitor_cond with server-side conditions, and a
// cache of typed rows kept up to date from update2 notifications. It uses
// libovsdb's ovsdb package for the schema, conditions and operations, not
// its client or cache (docs/design.md: their update path was two thirds of
// the agent's CPU per change at 100,000 ports).
//
// What it provides, and why (measured pitfalls in
// ../shared/docs/go-dependencies.md §1):
//   - schema-adaptive minimal models: one binary for OVN 22.03 to 25.x;
//   - an explicit column list on every monitor (a partial model monitored
//     without one goes stale silently);
//   - one connection per "generation": every (re)connect and every condition
//     change builds a fresh monitor, waits for its initial dump, diffs it
//     against the previous cache and emits exactly the differences before
//     switching readers over. Rows deleted while the server was away get
//     their Delete; readers never see an empty cache during an outage;
//   - a reconnect loop that never gives up and never hot-loops;
//   - events that carry only keys to a callback that must not block;
//   - malformed rows reported per row and counted, never a panic.
package ovsdb

import (
	"errors"
	"fmt"
	"sort"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/nbdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/vswitch"
)

// DBSpec names a database and the static models ovnbgp reads from it.
type DBSpec struct {
	Name     string
	Tables   map[string]any      // table name -> pointer to a zero static model
	Optional map[string][]string // declared columns some server versions lack
}

// Southbound is the OVN_Southbound spec.
var Southbound = DBSpec{
	Name: sbdb.DatabaseName,
	Tables: map[string]any{
		sbdb.PortBindingTable:     &sbdb.PortBinding{},
		sbdb.ChassisTable:         &sbdb.Chassis{},
		sbdb.ChassisPrivateTable:  &sbdb.ChassisPrivate{},
		sbdb.DatapathBindingTable: &sbdb.DatapathBinding{},
		sbdb.LoadBalancerTable:    &sbdb.LoadBalancer{},
		sbdb.LogicalDPGroupTable:  &sbdb.LogicalDPGroup{},
	},
	Optional: sbdb.OptionalColumns,
}

// Northbound is the OVN_Northbound spec.
var Northbound = DBSpec{
	Name: nbdb.DatabaseName,
	Tables: map[string]any{
		nbdb.LogicalSwitchTable:     &nbdb.LogicalSwitch{},
		nbdb.LogicalSwitchPortTable: &nbdb.LogicalSwitchPort{},
		nbdb.LogicalRouterTable:     &nbdb.LogicalRouter{},
		nbdb.LogicalRouterPortTable: &nbdb.LogicalRouterPort{},
		nbdb.NATTable:               &nbdb.NAT{},
		nbdb.LoadBalancerTable:      &nbdb.LoadBalancer{},
		nbdb.NBGlobalTable:          &nbdb.NBGlobal{},
	},
	Optional: nbdb.OptionalColumns,
}

// VSwitch is the local Open_vSwitch spec.
var VSwitch = DBSpec{
	Name: vswitch.DatabaseName,
	Tables: map[string]any{
		vswitch.OpenVSwitchTable: &vswitch.OpenVSwitch{},
		vswitch.BridgeTable:      &vswitch.Bridge{},
		vswitch.PortTable:        &vswitch.Port{},
		vswitch.InterfaceTable:   &vswitch.Interface{},
	},
	Optional: vswitch.OptionalColumns,
}

// CheckSchema tells whether a server's schema fits every table of spec: the
// check each connection makes for the tables it monitors (a table or a
// declared, non-optional column missing, a column of an unconvertible
// type), for all of them at once. `ovnbgp doctor` uses it to say before
// start-up whether the agent could read this server.
func CheckSchema(spec DBSpec, schema ovsdb.DatabaseSchema) error {
	tables := make([]string, 0, len(spec.Tables))
	for t := range spec.Tables {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	var errs []error
	for _, t := range tables {
		ts := schema.Table(t)
		if ts == nil {
			errs = append(errs, fmt.Errorf("schema %s %s has no table %s", schema.Name, schema.Version, t))
			continue
		}
		if _, err := adaptTable(t, spec.Tables[t], ts, spec.Optional[t]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
