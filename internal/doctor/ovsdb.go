package doctor

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/nbdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/vswitch"
)

// ovsFacts is what the local Open_vSwitch database says about this chassis.
type ovsFacts struct {
	ids     map[string]string // Open_vSwitch external_ids
	bridges map[string]bool   // Bridge names
}

// small are the tables monitored to prove a database readable (the rows
// of the big ones are not downloaded; their schema is checked whole).
var small = map[string][]string{
	sbdb.DatabaseName:    {sbdb.ChassisTable},
	nbdb.DatabaseName:    {nbdb.NBGlobalTable},
	vswitch.DatabaseName: {vswitch.OpenVSwitchTable, vswitch.BridgeTable},
}

// connect opens one monitored connection (the _Server check of a clustered
// member included) and checks the whole schema against ovnbgp's models.
func (e *Env) connect(ctx context.Context, spec ovsdb.DBSpec, remote string, tlsFiles ovsdb.TLSFiles) (*ovsdb.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, e.Timeout)
	defer cancel()
	c, err := ovsdb.Connect(ctx, spec, ovsdb.Options{Remote: remote, TLS: tlsFiles, Logger: e.log,
		Tables: small[spec.Name], Timeout: e.Timeout, ProbeInterval: -1})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// describe is "<name> <schema version> at <endpoint>".
func describe(c *ovsdb.Client) string {
	s := c.Schema()
	return fmt.Sprintf("%s schema %s at %s", s.Name, s.Version, c.Endpoint())
}

// checkOVSDB: the local Open_vSwitch database (identity, OVN remote), then
// the OVN database of the driver.
func checkOVSDB(ctx context.Context, e *Env) []Result {
	cfg := e.Config
	var out []Result
	c, err := e.connect(ctx, ovsdb.VSwitch, cfg.OVSDBConnection, ovsdb.TLSFiles{})
	if err != nil {
		return append(out, fail("ovsdb/local", fmt.Sprintf("local Open_vSwitch database %s: %v", cfg.OVSDBConnection, err),
			"start Open vSwitch (systemctl start openvswitch-switch) or set [DEFAULT] ovsdb_connection to its socket (packaged OVS: unix:/var/run/openvswitch/db.sock)"))
	}
	facts := &ovsFacts{bridges: map[string]bool{}}
	c.ForEach(vswitch.OpenVSwitchTable, func(_ string, row any) bool {
		facts.ids = row.(*vswitch.OpenVSwitch).ExternalIDs
		return false
	})
	c.ForEach(vswitch.BridgeTable, func(_ string, row any) bool {
		facts.bridges[row.(*vswitch.Bridge).Name] = true
		return true
	})
	out = append(out, schemaResult("ovsdb/local", c, ovsdb.VSwitch))
	c.Close()
	e.ovs = facts

	sysid := facts.ids["system-id"]
	if sysid == "" {
		out = append(out, fail("ovsdb/identity", "external_ids:system-id is not set in the local Open_vSwitch database: the agent waits for it",
			"set it as ovn-controller expects: ovs-vsctl set Open_vSwitch . external_ids:system-id=<chassis name>"))
	} else {
		out = append(out, ok("ovsdb/identity", fmt.Sprintf("chassis %q (external_ids:system-id)", sysid)))
	}
	return append(out, e.checkOVN(ctx, sysid)...)
}

// schemaResult checks a connected server's schema against every table of
// the spec.
func schemaResult(name string, c *ovsdb.Client, spec ovsdb.DBSpec) Result {
	if err := ovsdb.CheckSchema(spec, c.Schema()); err != nil {
		return fail(name, fmt.Sprintf("%s: ovnbgp cannot read this schema: %v", describe(c), err),
			"run a supported release (OVN 22.03 or later, docs/design.md \"Models that fit every server\")")
	}
	return ok(name, "reachable, "+describe(c))
}

// checkOVN: the OVN database of the configured driver.
func (e *Env) checkOVN(ctx context.Context, sysid string) []Result {
	cfg := e.Config
	nb := cfg.Driver == config.DriverNB
	spec, name := ovsdb.Southbound, "ovsdb/southbound"
	remote, from := cfg.OVN.SBConnection, "[ovn] ovn_sb_connection"
	tlsFiles := ovsdb.TLSFiles{PrivateKey: cfg.OVN.SBPrivateKey, Certificate: cfg.OVN.SBCertificate, CACert: cfg.OVN.SBCACert}
	key, opt := "ovn-remote", "ovn_sb_connection"
	if nb {
		spec, name = ovsdb.Northbound, "ovsdb/northbound"
		remote, from = cfg.OVN.NBConnection, "[ovn] ovn_nb_connection"
		tlsFiles = ovsdb.TLSFiles{PrivateKey: cfg.OVN.NBPrivateKey, Certificate: cfg.OVN.NBCertificate, CACert: cfg.OVN.NBCACert}
		key, opt = "ovn-nb-remote", "ovn_nb_connection"
	}
	if remote == "" && e.ovs != nil {
		remote, from = e.ovs.ids[key], "external_ids:"+key
	}
	if remote == "" {
		return []Result{fail(name, fmt.Sprintf("no %s remote: neither [ovn] %s nor external_ids:%s in the local Open_vSwitch database", spec.Name, opt, key),
			fmt.Sprintf("set [ovn] %s (comma-separated members of a cluster) or external_ids:%s", opt, key))}
	}
	var out []Result
	for _, r := range config.PlainTCPRemotes(remote) {
		out = append(out, warn(name, config.PlainTCPWarning(r, from), "use ssl: with the [ovn] key, certificate and CA options"))
	}
	if missing := missingTLSFiles(remote, tlsFiles); len(missing) > 0 {
		return append(out, fail(name, fmt.Sprintf("%s (%s) uses ssl: but cannot read %s", remote, from, strings.Join(missing, ", ")),
			"install the key, certificate and CA files or point the [ovn] "+strings.TrimSuffix(opt, "_connection")+"_private_key/_certificate/_ca_cert options at them"))
	}
	c, err := e.connect(ctx, spec, remote, tlsFiles)
	if err != nil {
		return append(out, fail(name, fmt.Sprintf("%s (%s): %v", remote, from, err),
			"check that the database runs and is reachable from this host (firewall, the remote's address, its ovsdb-server --remote), and for a cluster list every member"))
	}
	defer c.Close()
	out = append(out, schemaResult(name, c, spec))
	if nb && !c.HasColumn(nbdb.LogicalRouterPortTable, "status") {
		out = append(out, warn(name, "this northbound database has no Logical_Router_Port status column (OVN < 23.09): nothing behind a router gateway is announced",
			"use driver = ovn_bgp_driver, or upgrade OVN to 23.09 or later"))
	}
	if !nb && sysid != "" {
		found := false
		c.ForEach(sbdb.ChassisTable, func(_ string, row any) bool {
			found = row.(*sbdb.Chassis).Name == sysid
			return !found
		})
		if found {
			out = append(out, ok(name, fmt.Sprintf("chassis %q is registered", sysid)))
		} else {
			out = append(out, warn(name, fmt.Sprintf("chassis %q is not registered in the southbound database: the agent waits until it is", sysid),
				"start ovn-controller on this host (systemctl start ovn-controller)"))
		}
	}
	return out
}

// missingTLSFiles lists the TLS files an ssl: remote needs and this
// process cannot read.
func missingTLSFiles(remote string, f ovsdb.TLSFiles) []string {
	ssl := false
	for _, r := range config.SplitRemotes(remote) {
		ssl = ssl || strings.HasPrefix(r, "ssl:")
	}
	if !ssl {
		return nil
	}
	var out []string
	for _, p := range []string{f.PrivateKey, f.Certificate, f.CACert} {
		if p == "" {
			continue
		}
		if fd, err := os.Open(p); err != nil {
			out = append(out, p)
		} else {
			fd.Close()
		}
	}
	return out
}
