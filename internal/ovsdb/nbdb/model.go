// Package nbdb holds the minimal OVN_Northbound models ovnbgp reads.
// See package sbdb for the rules these models follow.
package nbdb

// DatabaseName is the schema name of the OVN northbound database.
const DatabaseName = "OVN_Northbound"

// Table names.
const (
	LogicalSwitchTable     = "Logical_Switch"
	LogicalSwitchPortTable = "Logical_Switch_Port"
	LogicalRouterTable     = "Logical_Router"
	LogicalRouterPortTable = "Logical_Router_Port"
	NATTable               = "NAT"
	LoadBalancerTable      = "Load_Balancer"
	NBGlobalTable          = "NB_Global"
)

// LogicalSwitch is a row of Logical_Switch.
type LogicalSwitch struct {
	UUID         string            `ovsdb:"_uuid"`
	Name         string            `ovsdb:"name"`
	Ports        []string          `ovsdb:"ports"`
	LoadBalancer []string          `ovsdb:"load_balancer"`
	OtherConfig  map[string]string `ovsdb:"other_config"`
	ExternalIDs  map[string]string `ovsdb:"external_ids"`
}

// LogicalSwitchPort is a row of Logical_Switch_Port.
type LogicalSwitchPort struct {
	UUID             string            `ovsdb:"_uuid"`
	Name             string            `ovsdb:"name"`
	Type             string            `ovsdb:"type"`
	Addresses        []string          `ovsdb:"addresses"`
	DynamicAddresses *string           `ovsdb:"dynamic_addresses"`
	Up               *bool             `ovsdb:"up"`
	Enabled          *bool             `ovsdb:"enabled"`
	Tag              *int              `ovsdb:"tag"`
	ParentName       *string           `ovsdb:"parent_name"`
	Options          map[string]string `ovsdb:"options"`
	ExternalIDs      map[string]string `ovsdb:"external_ids"`
}

// LogicalRouter is a row of Logical_Router.
type LogicalRouter struct {
	UUID         string            `ovsdb:"_uuid"`
	Name         string            `ovsdb:"name"`
	Ports        []string          `ovsdb:"ports"`
	Nat          []string          `ovsdb:"nat"`
	LoadBalancer []string          `ovsdb:"load_balancer"`
	Options      map[string]string `ovsdb:"options"`
	ExternalIDs  map[string]string `ovsdb:"external_ids"`
}

// LogicalRouterPort is a row of Logical_Router_Port.
type LogicalRouterPort struct {
	UUID           string            `ovsdb:"_uuid"`
	Name           string            `ovsdb:"name"`
	MAC            string            `ovsdb:"mac"`
	Networks       []string          `ovsdb:"networks"`
	Peer           *string           `ovsdb:"peer"`
	GatewayChassis []string          `ovsdb:"gateway_chassis"`
	Options        map[string]string `ovsdb:"options"`
	ExternalIDs    map[string]string `ovsdb:"external_ids"`
	Status         map[string]string `ovsdb:"status"`
}

// NAT is a row of NAT.
type NAT struct {
	UUID        string            `ovsdb:"_uuid"`
	Type        string            `ovsdb:"type"`
	ExternalIP  string            `ovsdb:"external_ip"`
	ExternalMAC *string           `ovsdb:"external_mac"`
	LogicalIP   string            `ovsdb:"logical_ip"`
	LogicalPort *string           `ovsdb:"logical_port"`
	GatewayPort *string           `ovsdb:"gateway_port"`
	Options     map[string]string `ovsdb:"options"`
	ExternalIDs map[string]string `ovsdb:"external_ids"`
}

// LoadBalancer is a row of Load_Balancer.
type LoadBalancer struct {
	UUID        string            `ovsdb:"_uuid"`
	Name        string            `ovsdb:"name"`
	Vips        map[string]string `ovsdb:"vips"`
	Protocol    *string           `ovsdb:"protocol"`
	Options     map[string]string `ovsdb:"options"`
	ExternalIDs map[string]string `ovsdb:"external_ids"`
}

// NBGlobal is a row of NB_Global.
type NBGlobal struct {
	UUID        string            `ovsdb:"_uuid"`
	Name        string            `ovsdb:"name"`
	Options     map[string]string `ovsdb:"options"`
	ExternalIDs map[string]string `ovsdb:"external_ids"`
}

// OptionalColumns lists the declared columns some supported OVN releases lack.
// Logical_Router_Port.status (hosting-chassis) exists from OVN 23.09 and
// NAT.gateway_port from 22.12.
var OptionalColumns = map[string][]string{
	LogicalRouterPortTable: {"status"},
	NATTable:               {"gateway_port"},
}
