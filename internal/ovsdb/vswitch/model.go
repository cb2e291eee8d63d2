// Package vswitch holds the minimal Open_vSwitch models ovnbgp reads from the
// chassis' local OVS database. See package sbdb for the rules these models follow.
package vswitch

// DatabaseName is the schema name of the local OVS database.
const DatabaseName = "Open_vSwitch"

// Table names.
const (
	OpenVSwitchTable = "Open_vSwitch"
	BridgeTable      = "Bridge"
	PortTable        = "Port"
	InterfaceTable   = "Interface"
)

// OpenVSwitch is the single row of Open_vSwitch.
type OpenVSwitch struct {
	UUID        string            `ovsdb:"_uuid"`
	Bridges     []string          `ovsdb:"bridges"`
	ExternalIDs map[string]string `ovsdb:"external_ids"`
	OtherConfig map[string]string `ovsdb:"other_config"`
}

// Bridge is a row of Bridge.
type Bridge struct {
	UUID         string            `ovsdb:"_uuid"`
	Name         string            `ovsdb:"name"`
	Ports        []string          `ovsdb:"ports"`
	DatapathType string            `ovsdb:"datapath_type"`
	ExternalIDs  map[string]string `ovsdb:"external_ids"`
}

// Port is a row of Port.
type Port struct {
	UUID        string            `ovsdb:"_uuid"`
	Name        string            `ovsdb:"name"`
	Interfaces  []string          `ovsdb:"interfaces"`
	Tag         *int              `ovsdb:"tag"`
	ExternalIDs map[string]string `ovsdb:"external_ids"`
}

// Interface is a row of Interface.
type Interface struct {
	UUID        string            `ovsdb:"_uuid"`
	Name        string            `ovsdb:"name"`
	Type        string            `ovsdb:"type"`
	Ofport      *int              `ovsdb:"ofport"`
	MACInUse    *string           `ovsdb:"mac_in_use"`
	Options     map[string]string `ovsdb:"options"`
	ExternalIDs map[string]string `ovsdb:"external_ids"`
}

// OptionalColumns: every declared column exists in all supported OVS releases.
var OptionalColumns = map[string][]string{}
