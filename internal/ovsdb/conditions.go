package ovsdb

import (
	"fmt"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
)

// Condition is one server-side monitor condition: Column Function Value.
// Value is a Go native value: string, int, bool, or UUID for references.
// A row is monitored when it matches any condition of its table.
type Condition struct {
	Column   string
	Function ovsdb.ConditionFunction
	Value    any
}

// UUID marks a condition value as a row reference.
type UUID string

// Equal is `column == value`.
func Equal(column string, value any) Condition {
	return Condition{Column: column, Function: ovsdb.ConditionEqual, Value: value}
}

// Includes is `column includes value` (set columns).
func Includes(column string, value any) Condition {
	return Condition{Column: column, Function: ovsdb.ConditionIncludes, Value: value}
}

// conditionsToWire checks the conditions against the table schema and
// encodes them. No conditions means the whole table.
func conditionsToWire(ts *ovsdb.TableSchema, conds []Condition) ([]ovsdb.Condition, error) {
	if len(conds) == 0 {
		return nil, nil
	}
	out := make([]ovsdb.Condition, 0, len(conds))
	for _, c := range conds {
		col := ts.Column(c.Column)
		if col == nil {
			// A condition on a column this server lacks can never match;
			// dropping it keeps the others working on older OVN.
			continue
		}
		var v any
		switch x := c.Value.(type) {
		case UUID:
			v = ovsdb.UUID{GoUUID: string(x)}
		case string, int, bool, float64:
			v = x
		default:
			return nil, fmt.Errorf("condition on %s: unsupported value type %T", c.Column, c.Value)
		}
		out = append(out, ovsdb.Condition{Column: c.Column, Function: c.Function, Value: v})
	}
	if len(out) == 0 {
		// Every condition referred to missing columns: match nothing.
		out = append(out, ovsdb.Condition{Column: "_uuid", Function: ovsdb.ConditionEqual,
			Value: ovsdb.UUID{GoUUID: "00000000-0000-0000-0000-000000000000"}})
	}
	return out, nil
}

// SouthboundNeed says which southbound rows a chassis needs.
type SouthboundNeed struct {
	Chassis     string   // this chassis' name (system-id)
	ChassisUUID string   // UUID of its Chassis row; "" until known
	Datapaths   []string // extra datapaths whose every port is needed (tenant networks behind local cr-lrps)
}

// SouthboundConditions are the monitor conditions of a chassis in the SB
// driver. Port_Binding: the rows bound or requested here (chassis,
// requested_chassis, additional_chassis), every row of the types other
// chassis' decisions depend on (patch for FIP nat_addresses, localnet for
// provider networks, chassisredirect for router gateways, virtual for VIPs,
// l3gateway), and every row of the extra datapaths. Chassis_Private: only
// this chassis. Chassis, Datapath_Binding, Load_Balancer and
// Logical_DP_Group are small and monitored whole.
func SouthboundConditions(n SouthboundNeed) map[string][]Condition {
	pb := []Condition{
		Equal("type", "patch"),
		Equal("type", "localnet"),
		Equal("type", "chassisredirect"),
		Equal("type", "virtual"),
		Equal("type", "l3gateway"),
	}
	if n.ChassisUUID != "" {
		pb = append(pb,
			Equal("chassis", UUID(n.ChassisUUID)),
			Equal("requested_chassis", UUID(n.ChassisUUID)),
			Includes("additional_chassis", UUID(n.ChassisUUID)),
		)
	}
	for _, dp := range n.Datapaths {
		pb = append(pb, Equal("datapath", UUID(dp)))
	}
	return map[string][]Condition{
		sbdb.PortBindingTable:    pb,
		sbdb.ChassisPrivateTable: {Equal("name", n.Chassis)},
	}
}
