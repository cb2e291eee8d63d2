// Package sbdb holds the minimal OVN_Southbound models ovnbgp reads.
//
// Only the tables and columns the planner uses are declared (and the columns
// of the schema indexes, datapath and tunnel_key, for diagnostics). Columns that do
// not exist in every supported OVN release are listed in OptionalColumns; the
// ovsdb client drops them from the model and the monitor when the server's
// schema lacks them, so the same binary serves OVN 22.03 to 25.x.
package sbdb

// DatabaseName is the schema name of the OVN southbound database.
const DatabaseName = "OVN_Southbound"

// Table names.
const (
	PortBindingTable     = "Port_Binding"
	ChassisTable         = "Chassis"
	ChassisPrivateTable  = "Chassis_Private"
	DatapathBindingTable = "Datapath_Binding"
	LoadBalancerTable    = "Load_Balancer"
	LogicalDPGroupTable  = "Logical_DP_Group"
)

// PortBinding is a row of Port_Binding.
type PortBinding struct {
	UUID              string            `ovsdb:"_uuid"`
	LogicalPort       string            `ovsdb:"logical_port"`
	Type              string            `ovsdb:"type"`
	Datapath          string            `ovsdb:"datapath"`
	TunnelKey         int               `ovsdb:"tunnel_key"`
	Chassis           *string           `ovsdb:"chassis"`
	AdditionalChassis []string          `ovsdb:"additional_chassis"`
	RequestedChassis  *string           `ovsdb:"requested_chassis"`
	Up                *bool             `ovsdb:"up"`
	MAC               []string          `ovsdb:"mac"`
	NatAddresses      []string          `ovsdb:"nat_addresses"`
	Options           map[string]string `ovsdb:"options"`
	ExternalIDs       map[string]string `ovsdb:"external_ids"`
	Tag               *int              `ovsdb:"tag"`
	VirtualParent     *string           `ovsdb:"virtual_parent"`
}

// Chassis is a row of Chassis.
type Chassis struct {
	UUID        string            `ovsdb:"_uuid"`
	Name        string            `ovsdb:"name"`
	Hostname    string            `ovsdb:"hostname"`
	ExternalIDs map[string]string `ovsdb:"external_ids"`
	OtherConfig map[string]string `ovsdb:"other_config"`
}

// ChassisPrivate is a row of Chassis_Private.
type ChassisPrivate struct {
	UUID        string            `ovsdb:"_uuid"`
	Name        string            `ovsdb:"name"`
	Chassis     *string           `ovsdb:"chassis"`
	ExternalIDs map[string]string `ovsdb:"external_ids"`
}

// DatapathBinding is a row of Datapath_Binding.
type DatapathBinding struct {
	UUID        string            `ovsdb:"_uuid"`
	TunnelKey   int               `ovsdb:"tunnel_key"`
	ExternalIDs map[string]string `ovsdb:"external_ids"`
}

// LoadBalancer is a row of Load_Balancer.
type LoadBalancer struct {
	UUID            string            `ovsdb:"_uuid"`
	Name            string            `ovsdb:"name"`
	Vips            map[string]string `ovsdb:"vips"`
	Protocol        *string           `ovsdb:"protocol"`
	Datapaths       []string          `ovsdb:"datapaths"`
	DatapathGroup   *string           `ovsdb:"datapath_group"`
	LSDatapathGroup *string           `ovsdb:"ls_datapath_group"`
	LRDatapathGroup *string           `ovsdb:"lr_datapath_group"`
	ExternalIDs     map[string]string `ovsdb:"external_ids"`
}

// LogicalDPGroup is a row of Logical_DP_Group.
type LogicalDPGroup struct {
	UUID      string   `ovsdb:"_uuid"`
	Datapaths []string `ovsdb:"datapaths"`
}

// OptionalColumns lists, per table, the columns this model declares that some
// supported OVN releases do not have. A column missing from the server schema
// and not listed here is an error at connect time.
var OptionalColumns = map[string][]string{
	PortBindingTable:  {"additional_chassis", "requested_chassis", "virtual_parent"},
	LoadBalancerTable: {"datapaths", "datapath_group", "ls_datapath_group", "lr_datapath_group"},
}
