package southbound_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/plan/southbound"
)

// incFixture drives an Incremental over a fixture: every change is given
// as the rows it upserts or deletes, and the test checks the Delta.
type incFixture struct {
	*fixture
	inc *plan.Incremental
	drv *southbound.Driver
	cfg *config.Config
}

func newInc(t *testing.T, f *fixture, cfg *config.Config) *incFixture {
	t.Helper()
	f.settle()
	f.t.RLock()
	defer f.t.RUnlock()
	drv := southbound.New(cfg, f.t, "c1")
	inc := plan.NewIncremental(drv, "c1")
	inc.Full()
	return &incFixture{fixture: f, inc: inc, drv: drv, cfg: cfg}
}

// update replaces a port with a copy changed by mod (rows are never
// modified in place once given to the topology) and re-plans it.
func (x *incFixture) update(t *testing.T, name string, mod func(p *sbdb.PortBinding)) *plan.Delta {
	t.Helper()
	old := x.t.PortBinding(name)
	require.NotNil(t, old, name)
	p := *old
	p.Options = clone(old.Options)
	p.ExternalIDs = clone(old.ExternalIDs)
	mod(&p)
	x.t.Upsert(&p)
	return x.replan(t, plan.RowRef{Table: sbdb.PortBindingTable, UUID: p.UUID})
}

func (x *incFixture) del(t *testing.T, name string) *plan.Delta {
	t.Helper()
	p := x.t.PortBinding(name)
	require.NotNil(t, p, name)
	x.t.Delete(sbdb.PortBindingTable, p.UUID)
	return x.replan(t, plan.RowRef{Table: sbdb.PortBindingTable, UUID: p.UUID})
}

func (x *incFixture) replan(t *testing.T, src ...plan.RowRef) *plan.Delta {
	t.Helper()
	x.t.RLock()
	defer x.t.RUnlock()
	d, _ := x.inc.Replan(src)
	// Whatever the change, the incremental state equals a full plan.
	want, _ := plan.Full(southbound.New(x.cfg, x.t, "c1"), "c1")
	require.Equal(t, render(want), render(x.inc.State()))
	return d
}

func clone(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func prefixes(as []plan.Announcement) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Prefix.String())
	}
	return out
}

func TestSBUpstreamRowsIncremental(t *testing.T) {
	tenant := config.Default()
	tenant.ExposeTenantNetworks = true

	t.Run("upstream 10.1 row 8: cr-lrp moving here, away and back while tenant rows change", func(t *testing.T) {
		f := newFixture("physnet1:br-ex")
		tenantWorld(f, "c2")
		f.pb("vm1", "", "t1", "c3", "fa:16:3e:00:01:10 10.0.1.10")
		x := newInc(t, f, tenant)
		require.Empty(t, x.inc.State().Announcements)
		d := x.update(t, "cr-lrp-gw", func(p *sbdb.PortBinding) { p.Chassis = ptr("ch-c1") })
		require.ElementsMatch(t, []string{"172.24.4.100/32", "2001:db8:24::100/128", "10.0.1.10/32"}, prefixes(d.Announce))
		require.Len(t, d.Wire, 3)
		// A subnet detach while the gateway is here: the VM goes.
		d = x.del(t, "lrp-if-t1")
		require.Equal(t, []string{"10.0.1.10/32"}, prefixes(d.Withdraw))
		require.Equal(t, []string{"10.0.1.10/32"}, prefixesE(d.Unwire))
		d = x.update(t, "cr-lrp-gw", func(p *sbdb.PortBinding) { p.Chassis = ptr("ch-c2") })
		require.ElementsMatch(t, []string{"172.24.4.100/32", "2001:db8:24::100/128"}, prefixes(d.Withdraw))
		require.Empty(t, d.Announce)
	})

	t.Run("upstream 10.1 row 9: VM deleted with a FIP: chassis cleared first, then the row", func(t *testing.T) {
		f := newFixture("physnet1:br-ex")
		tenantWorld(f, "c2")
		f.pb("vm1", "", "t1", "c1", "fa:16:3e:00:01:10 10.0.1.10")
		gw := f.t.PortBinding("gw")
		gw.NatAddresses = []string{`fa:16:3e:00:aa:01 172.24.4.150 is_chassis_resident("vm1")`}
		f.t.Upsert(gw)
		x := newInc(t, f, tenant)
		require.Equal(t, []string{"172.24.4.150/32"}, prefixes(x.inc.State().Announcements))
		d := x.update(t, "vm1", func(p *sbdb.PortBinding) { p.Chassis = nil })
		require.Equal(t, []string{"172.24.4.150/32"}, prefixes(d.Withdraw))
		d = x.del(t, "vm1")
		require.True(t, d.Empty())
	})

	t.Run("upstream 10.1 row 9: VM row deleted at once", func(t *testing.T) {
		f := newFixture("physnet1:br-ex")
		tenantWorld(f, "c2")
		f.pb("vm1", "", "t1", "c1", "fa:16:3e:00:01:10 10.0.1.10")
		gw := f.t.PortBinding("gw")
		gw.NatAddresses = []string{`fa:16:3e:00:aa:01 172.24.4.150 is_chassis_resident("vm1")`}
		f.t.Upsert(gw)
		x := newInc(t, f, tenant)
		d := x.del(t, "vm1")
		require.Equal(t, []string{"172.24.4.150/32"}, prefixes(d.Withdraw))
	})

	t.Run("upstream 10.1 row 10: a port that was never exposed here withdraws nothing", func(t *testing.T) {
		f := newFixture("physnet1:br-ex")
		f.localnet("pub", "physnet1", 0)
		f.pb("vm1", "", "pub", "c2", "fa:16:3e:00:01:10 172.24.4.10")
		f.pb("vm2", "", "pub", "c1", "fa:16:3e:00:01:11 172.24.4.11")
		x := newInc(t, f, config.Default())
		d := x.del(t, "vm1")
		require.True(t, d.Empty(), "%+v", d)
		d = x.update(t, "vm2", func(p *sbdb.PortBinding) { p.ExternalIDs["foo"] = "bar" })
		require.True(t, d.Empty(), "an unrelated column changed: %+v", d)
	})

	t.Run("upstream 10.1 row 11: chassis and up in separate updates", func(t *testing.T) {
		f := newFixture("physnet1:br-ex")
		f.localnet("pub", "physnet1", 0)
		f.pb("vm1", "", "pub", "", "fa:16:3e:00:01:10 172.24.4.10")
		x := newInc(t, f, config.Default())
		d := x.update(t, "vm1", func(p *sbdb.PortBinding) { p.Chassis = ptr("ch-c1"); p.Up = ptr(false) })
		require.True(t, d.Empty(), "bound but not up yet")
		d = x.update(t, "vm1", func(p *sbdb.PortBinding) { p.Up = ptr(true) })
		require.Equal(t, []string{"172.24.4.10/32"}, prefixes(d.Announce))
		d = x.update(t, "vm1", func(p *sbdb.PortBinding) { p.Up = ptr(false) })
		require.Equal(t, []string{"172.24.4.10/32"}, prefixes(d.Withdraw))
		d = x.update(t, "vm1", func(p *sbdb.PortBinding) { p.Up = ptr(true); p.Chassis = nil })
		require.True(t, d.Empty(), "up without chassis")
	})

	t.Run("upstream 10.1 row 12: live migration, activation moves the announcement in one step", func(t *testing.T) {
		f := newFixture("physnet1:br-ex")
		f.localnet("pub", "physnet1", 0)
		p := f.pb("vm1", "", "pub", "c2", "fa:16:3e:00:01:10 172.24.4.10")
		p.RequestedChassis = ptr("ch-c1")
		p.AdditionalChassis = []string{"ch-c1"}
		x := newInc(t, f, config.Default())
		require.Empty(t, x.inc.State().Announcements, "destination while the source is active")
		d := x.update(t, "vm1", func(p *sbdb.PortBinding) { p.Chassis = ptr("ch-c1"); p.AdditionalChassis = []string{"ch-c2"} })
		require.Equal(t, []string{"172.24.4.10/32"}, prefixes(d.Announce))
		d = x.update(t, "vm1", func(p *sbdb.PortBinding) { p.AdditionalChassis = nil })
		require.True(t, d.Empty())
	})

	t.Run("upstream 10.1 row 13: virtual port bound late by OVN, then moved", func(t *testing.T) {
		f := newFixture("physnet1:br-ex")
		f.localnet("pub", "physnet1", 0)
		f.pb("vip", "virtual", "pub", "", "fa:16:3e:00:07:10 172.24.4.70")
		x := newInc(t, f, config.Default())
		d := x.update(t, "vip", func(p *sbdb.PortBinding) { p.Chassis = ptr("ch-c1"); p.VirtualParent = ptr("vm1") })
		require.Equal(t, []string{"172.24.4.70/32"}, prefixes(d.Announce))
		d = x.update(t, "vip", func(p *sbdb.PortBinding) { p.Chassis = ptr("ch-c2"); p.VirtualParent = ptr("vm2") })
		require.Equal(t, []string{"172.24.4.70/32"}, prefixes(d.Withdraw))
	})

	t.Run("upstream 10.1 row 15: FIP switching from distributed to centralized", func(t *testing.T) {
		f := newFixture("physnet1:br-ex")
		tenantWorld(f, "c2")
		f.pb("vm1", "", "t1", "c1", "fa:16:3e:00:01:10 10.0.1.10")
		gw := f.t.PortBinding("gw")
		gw.NatAddresses = []string{`fa:16:3e:00:aa:01 172.24.4.150 is_chassis_resident("vm1")`}
		f.t.Upsert(gw)
		x := newInc(t, f, config.Default())
		require.Equal(t, []string{"172.24.4.150/32"}, prefixes(x.inc.State().Announcements))
		d := x.update(t, "gw", func(p *sbdb.PortBinding) {
			p.NatAddresses = []string{`fa:16:3e:00:00:01 172.24.4.100 172.24.4.150 is_chassis_resident("cr-lrp-gw")`}
		})
		require.Equal(t, []string{"172.24.4.150/32"}, prefixes(d.Withdraw), "the gateway is on c2 now")
	})

	t.Run("upstream 10.1 row 17: LB FIP withdrawn with its LB and when the VIP moves to another router", func(t *testing.T) {
		f := newFixture("physnet1:br-ex")
		tenantWorld(f, "c1")
		f.lb("lb1", map[string]string{"172.24.4.201:80": "10.0.1.10:80"}, func(lb *sbdb.LoadBalancer) {
			lb.Datapaths = []string{"dp-t1"}
			lb.ExternalIDs["neutron:vip_fip"] = "172.24.4.201"
		})
		x := newInc(t, f, config.Default())
		require.Contains(t, prefixes(x.inc.State().Announcements), "172.24.4.201/32")
		// The tenant network is detached from the router: the LB's router is gone.
		d := x.del(t, "rif-t1")
		require.Equal(t, []string{"172.24.4.201/32"}, prefixes(d.Withdraw))
		f.iface("r", "t1b", "", "", "10.0.1.1/24")
		d = x.replan(t, plan.RowRef{Table: sbdb.PortBindingTable, UUID: "pb-lrp-if-t1b"}, plan.RowRef{Table: sbdb.PortBindingTable, UUID: "pb-rif-t1b"})
		require.True(t, d.Empty())
		x.t.Delete(sbdb.LoadBalancerTable, "lb-lb1")
		d = x.replan(t, plan.RowRef{Table: sbdb.LoadBalancerTable, UUID: "lb-lb1"})
		require.True(t, d.Empty())
	})

	t.Run("upstream 10.1 row 18: a port whose IP changes withdraws the old IP", func(t *testing.T) {
		f := newFixture("physnet1:br-ex")
		f.localnet("pub", "physnet1", 0)
		f.pb("vm1", "", "pub", "c1", "fa:16:3e:00:01:10 172.24.4.10")
		x := newInc(t, f, config.Default())
		d := x.update(t, "vm1", func(p *sbdb.PortBinding) { p.MAC = []string{"fa:16:3e:00:01:10 172.24.4.11"} })
		require.Equal(t, []string{"172.24.4.11/32"}, prefixes(d.Announce))
		require.Equal(t, []string{"172.24.4.10/32"}, prefixes(d.Withdraw))
		require.Equal(t, []string{"172.24.4.10/32"}, prefixesE(d.Unwire))
		require.Equal(t, []string{"172.24.4.11/32"}, prefixesE(d.Wire))
	})

	t.Run("upstream 10.1 row 6: datapath and router deleted before the ports", func(t *testing.T) {
		f := newFixture("physnet1:br-ex")
		tenantWorld(f, "c1")
		f.pb("vm1", "", "t1", "c2", "fa:16:3e:00:01:10 10.0.1.10")
		x := newInc(t, f, tenant)
		require.Len(t, x.inc.State().Announcements, 3)
		for _, n := range []string{"cr-lrp-gw", "lrp-gw", "lrp-if-t1"} {
			x.del(t, n)
		}
		require.Empty(t, x.inc.State().Announcements)
		d := x.del(t, "vm1")
		require.True(t, d.Empty())
	})

	t.Run("localnet deleted and re-created: the network's ports follow", func(t *testing.T) {
		f := newFixture("physnet1:br-ex,physnet2:br-vlan")
		f.localnet("pub", "physnet1", 0)
		f.pb("vm1", "", "pub", "c1", "fa:16:3e:00:01:10 172.24.4.10")
		x := newInc(t, f, config.Default())
		d := x.del(t, "provnet-pub")
		require.Equal(t, []string{"172.24.4.10/32"}, prefixes(d.Withdraw))
		f.localnet("pub", "physnet2", 300)
		d = x.replan(t, plan.RowRef{Table: sbdb.PortBindingTable, UUID: "pb-provnet-pub"})
		require.Equal(t, []string{"172.24.4.10/32"}, prefixesE(d.Wire))
		require.Equal(t, "br-vlan", d.Wire[0].Bridge)
		require.Equal(t, 300, d.Wire[0].VLAN)
		require.True(t, d.BridgesChanged)
	})
}

func prefixesE(es []plan.Exposure) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Prefix.String())
	}
	return out
}
