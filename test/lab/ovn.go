package lab

import (
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ovnbgp/ovnbgp/test/ovsdbserver"
)

// Central is OVN's control plane: NB and SB ovsdb-server and ovn-northd, in
// the root namespace, reached over unix sockets (which work across
// namespaces; a namespace cannot reach the host's 127.0.0.1).
type Central struct {
	lab *Lab
	NB  *ovsdbserver.Server
	SB  *ovsdbserver.Server
	Dir string
}

// StartCentral starts NB, SB and ovn-northd and waits until northd has
// synced the SB.
func (l *Lab) StartCentral() *Central {
	l.T.Helper()
	c := &Central{lab: l, Dir: l.Subdir("central")}
	nbDir, sbDir := l.Subdir("central", "nb"), l.Subdir("central", "sb")
	c.NB = ovsdbserver.Start(l.T, ovsdbserver.Options{Schema: ovsdbserver.NBSchema, Dir: nbDir, LeftToCaller: true})
	c.SB = ovsdbserver.Start(l.T, ovsdbserver.Options{Schema: ovsdbserver.SBSchema, Dir: sbDir, LeftToCaller: true})
	// Without OVN_RUNDIR & co. ovn-northd wants /var/run/ovn.
	env := []string{"OVN_RUNDIR=" + c.Dir, "OVN_LOGDIR=" + c.Dir, "OVN_DBDIR=" + c.Dir,
		"OVS_RUNDIR=" + c.Dir, "OVS_LOGDIR=" + c.Dir, "OVS_DBDIR=" + c.Dir}
	l.RunEnv(env, "ovn-northd", "--detach", "--no-chdir",
		"--pidfile="+filepath.Join(c.Dir, "northd.pid"), "--log-file="+filepath.Join(c.Dir, "northd.log"),
		"--unixctl="+filepath.Join(c.Dir, "northd.ctl"),
		"--ovnnb-db="+c.NB.Remote(), "--ovnsb-db="+c.SB.Remote())
	c.NBCtl("--wait=sb", "sync")
	return c
}

// NBRemote and SBRemote are the unix: remotes of the databases.
func (c *Central) NBRemote() string { return c.NB.Remote() }

// SBRemote is the unix: remote of the southbound database.
func (c *Central) SBRemote() string { return c.SB.Remote() }

// NBCtl runs ovn-nbctl against the NB.
func (c *Central) NBCtl(args ...string) string {
	c.lab.T.Helper()
	return c.lab.Run("ovn-nbctl", append([]string{"--db=" + c.NB.Remote()}, args...)...)
}

// SBCtl runs ovn-sbctl against the SB.
func (c *Central) SBCtl(args ...string) string {
	c.lab.T.Helper()
	return c.lab.Run("ovn-sbctl", append([]string{"--db=" + c.SB.Remote()}, args...)...)
}

// ChassisOptions configure a chassis.
type ChassisOptions struct {
	// EncapIP is the geneve tunnel endpoint; it is put on an OVS bridge
	// br-ul of the chassis (userspace tunnels route through OVS).
	EncapIP string
	// BridgeMappings, default "physnet1:br-ex"; every bridge is created.
	BridgeMappings string
	// Gateway marks the chassis gateway-capable
	// (ovn-cms-options=enable-chassis-as-gw).
	Gateway bool
}

// Chassis is one OVN chassis in its own namespace.
type Chassis struct {
	lab  *Lab
	Name string // system-id and hostname
	NS   *NetNS
	Dir  string
	OVS  *ovsdbserver.Server
}

// AddChassis starts OVS (ovsdb-server, ovs-vswitchd with netdev bridges
// br-int and the mapped bridges) and ovn-controller in a new namespace, and
// waits until the chassis has registered in the SB.
func (l *Lab) AddChassis(c *Central, name string, o ChassisOptions) *Chassis {
	l.T.Helper()
	if o.BridgeMappings == "" {
		o.BridgeMappings = "physnet1:br-ex"
	}
	if o.EncapIP == "" {
		o.EncapIP = "192.0.2.1"
	}
	ch := &Chassis{lab: l, Name: name, NS: l.NetNS(name, true)}
	ch.Dir = l.Subdir(name)
	ovsDir := l.Subdir(name, "ovs")
	ovnDir := l.Subdir(name, "ovn")
	ch.OVS = ovsdbserver.Start(l.T, ovsdbserver.Options{Schema: ovsdbserver.VSwitchSchema, Dir: ovsDir, LeftToCaller: true})
	ch.VSCtl("--no-wait", "init")
	// OVS_RUNDIR: where ovs-vswitchd creates <bridge>.mgmt.
	env := []string{"OVS_RUNDIR=" + ovsDir, "OVS_LOGDIR=" + ovsDir, "OVS_DBDIR=" + ovsDir}
	l.RunEnv(env, "ip", "netns", "exec", ch.NS.Name, "ovs-vswitchd", ch.OVS.Remote(), "--detach", "--no-chdir",
		"--pidfile="+filepath.Join(ovsDir, "ovs-vswitchd.pid"), "--log-file="+filepath.Join(ovsDir, "ovs-vswitchd.log"),
		"--unixctl="+filepath.Join(ovsDir, "ovs-vswitchd.ctl"))
	args := []string{"--", "add-br", "br-int", "--", "set", "Bridge", "br-int", "datapath_type=netdev",
		"fail_mode=secure", "other_config:disable-in-band=true",
		"--", "add-br", "br-ul", "--", "set", "Bridge", "br-ul", "datapath_type=netdev"}
	for _, m := range strings.Split(o.BridgeMappings, ",") {
		if _, br, ok := strings.Cut(m, ":"); ok {
			args = append(args, "--", "--may-exist", "add-br", br, "--", "set", "Bridge", br, "datapath_type=netdev")
		}
	}
	ch.VSCtl(args...)
	// ovs-vswitchd creates a netdev bridge's tap device after the
	// transaction; under software emulation (the QEMU lab) noticeably so.
	l.Eventually(60*time.Second, "br-ul of "+name, func() bool {
		_, err := ch.NS.Try("ip", "link", "show", "br-ul")
		return err == nil
	})
	ch.NS.IP("addr", "add", o.EncapIP+"/24", "dev", "br-ul")
	ch.NS.IP("link", "set", "br-ul", "up")
	ids := []string{"set", "Open_vSwitch", ".", "external_ids:system-id=" + name, "external_ids:hostname=" + name,
		"external_ids:ovn-remote=" + c.SBRemote(), "external_ids:ovn-encap-type=geneve",
		"external_ids:ovn-encap-ip=" + o.EncapIP, "external_ids:ovn-bridge-mappings=" + o.BridgeMappings,
		"external_ids:ovn-bridge-datapath-type=netdev"}
	if o.Gateway {
		ids = append(ids, "external_ids:ovn-cms-options=enable-chassis-as-gw")
	}
	ch.VSCtl(ids...)
	// ovn-controller 23.03 has no --unixctl; its socket is $OVN_RUNDIR/ovn-controller.<pid>.ctl.
	l.RunEnv([]string{"OVS_RUNDIR=" + ovsDir, "OVN_RUNDIR=" + ovnDir, "OVN_LOGDIR=" + ovnDir, "OVN_DBDIR=" + ovnDir},
		"ip", "netns", "exec", ch.NS.Name, "ovn-controller", ch.OVS.Remote(), "--detach", "--no-chdir",
		"--pidfile="+filepath.Join(ovnDir, "ovn-controller.pid"), "--log-file="+filepath.Join(ovnDir, "ovn-controller.log"))
	l.Eventually(20*time.Second, "chassis "+name+" registered in the SB", func() bool {
		out, err := c.trySB("--bare", "--columns=name", "find", "Chassis", "name="+name)
		return err == nil && out == name
	})
	// ovn-controller 22.06 and later publish ovn-bridge-mappings and
	// ovn-cms-options in the Chassis' other_config only; Debian 12's
	// Neutron 21 (2023.1) reads them from external_ids: without them it
	// refuses to bind ports of provider networks ("bridge mapping physical
	// networks [] not supporting physical network") and, finding no
	// gateway chassis, schedules router gateways on every chassis with the
	// physnet. Operators of that pairing set them by hand, as here.
	sbIDs := []string{"set", "Chassis", name, `external_ids:"ovn-bridge-mappings"="` + o.BridgeMappings + `"`}
	if o.Gateway {
		sbIDs = append(sbIDs, "external_ids:ovn-cms-options=enable-chassis-as-gw")
	}
	c.SBCtl(sbIDs...)
	return ch
}

// VSCtl runs ovs-vsctl against the chassis' OVS database.
func (ch *Chassis) VSCtl(args ...string) string {
	ch.lab.T.Helper()
	return ch.lab.Run("ovs-vsctl", append([]string{"--db=" + ch.OVS.Remote()}, args...)...)
}

// Mgmt is the OpenFlow management target of a bridge, for ovs-ofctl.
func (ch *Chassis) Mgmt(bridge string) string {
	return "unix:" + filepath.Join(ch.Dir, "ovs", bridge+".mgmt")
}

// OFCtl runs `ovs-ofctl CMD <bridge mgmt> args...`.
func (ch *Chassis) OFCtl(cmd, bridge string, args ...string) string {
	ch.lab.T.Helper()
	return ch.lab.Run("ovs-ofctl", append([]string{cmd, ch.Mgmt(bridge)}, args...)...)
}

// OFPort waits until the interface has an OpenFlow port number (patch
// ports appear lazily, with ofport [] at first) and returns it.
func (ch *Chassis) OFPort(iface string, timeout time.Duration) int {
	ch.lab.T.Helper()
	var n int
	ch.lab.Eventually(timeout, "ofport of "+iface+" on "+ch.Name, func() bool {
		out, err := tryRun("ovs-vsctl", "--db="+ch.OVS.Remote(), "get", "Interface", iface, "ofport")
		if err != nil {
			return false
		}
		v, err := strconv.Atoi(out)
		if err != nil || v <= 0 {
			return false
		}
		n = v
		return true
	})
	return n
}

// MAC returns the MAC address of a device in the chassis namespace.
func (ch *Chassis) MAC(dev string) string {
	ch.lab.T.Helper()
	b, err := ch.NS.Try("cat", "/sys/class/net/"+dev+"/address")
	if err != nil {
		ch.lab.T.Fatalf("lab: MAC of %s on %s: %v", dev, ch.Name, err)
	}
	return strings.TrimSpace(b)
}

func (c *Central) trySB(args ...string) (string, error) {
	return tryRun("ovn-sbctl", append([]string{"--db=" + c.SB.Remote()}, args...)...)
}

// VM is a namespace whose eth0 is bound to a logical switch port.
type VM struct {
	NS   *NetNS
	LSP  string
	MAC  string
	Addr []string
}

// AddVM creates a VM namespace with eth0 (MAC, addresses with prefix
// length, default routes via the gateways), plugs its peer into br-int of
// the chassis with iface-id=lsp, and waits until the SB marks the port up.
func (l *Lab) AddVM(c *Central, ch *Chassis, lsp, mac string, addrs, gateways []string) *VM {
	l.T.Helper()
	vm := &VM{NS: l.NetNS(lsp, false), LSP: lsp, MAC: mac, Addr: addrs}
	tap := "tap" + lsp
	if len(tap) > 15 {
		tap = tap[:15]
	}
	ch.NS.IP("link", "add", tap, "type", "veth", "peer", "name", "eth0", "netns", vm.NS.Name)
	vm.NS.IP("link", "set", "eth0", "address", mac)
	for _, a := range addrs {
		args := []string{"addr", "add", a, "dev", "eth0"}
		if strings.Contains(a, ":") {
			args = append(args, "nodad")
		}
		vm.NS.IP(args...)
	}
	vm.NS.IP("link", "set", "eth0", "up")
	for _, gw := range gateways {
		if strings.Contains(gw, ":") {
			vm.NS.IP("-6", "route", "add", "default", "via", gw)
		} else {
			vm.NS.IP("route", "add", "default", "via", gw)
		}
	}
	// The userspace datapath does not complete CHECKSUM_PARTIAL packets of veths.
	vm.NS.Exec("ethtool", "-K", "eth0", "tx", "off")
	ch.NS.IP("link", "set", tap, "up")
	ch.VSCtl("add-port", "br-int", tap, "--", "set", "Interface", tap, "external_ids:iface-id="+lsp,
		"external_ids:attached-mac="+mac, "external_ids:iface-status=active")
	l.Eventually(20*time.Second, "port "+lsp+" up in the SB", func() bool {
		out, err := c.trySB("--bare", "--columns=up", "find", "Port_Binding", "logical_port="+lsp)
		return err == nil && out == "true"
	})
	return vm
}
