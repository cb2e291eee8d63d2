package northbound_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/nbdb"
	"github.com/ovnbgp/ovnbgp/internal/plan"
	"github.com/ovnbgp/ovnbgp/internal/plan/northbound"
)

// FuzzNBMalformedRows feeds arbitrary LSP addresses, neutron:cidrs, LRP
// networks and MAC, NAT external_ip/external_mac, LB vips and external_ids
// and requested-chassis strings to the northbound driver: it warns, never
// panics, and the healthy port beside the bad rows is still planned.
func FuzzNBMalformedRows(f *testing.F) {
	f.Add("fa:16:3e:00:01:10 172.24.4.999", "10.0.0.300/24", "172.24.4.100/33", "zz:zz", "1.2.3", "fa:16", "[::1]:80", "10.0.0.1000", "host1,,")
	f.Add("unknown", "2001:db8::/129 garbage", "", "", "", "", "", "", ",")
	f.Add("dynamic", "", "::/0", "fa:16:3e:00:00:01", "172.24.4.150", "", "1.2.3.4:99999", "", "host1")
	f.Add("fa:16:3e:00:01:10 ::ffff:1.2.3.4 fe80::1%eth0", " ", "fe80::1%eth0/64", "", "::ffff:172.24.4.1", "x", ":80", "::", " host1 ")
	f.Fuzz(func(t *testing.T, addrs, cidrs, network, lrpMAC, extIP, extMAC, vip, neutronVIP, rc string) {
		fx := newNBFx()
		fx.cfg.ExposeTenantNetworks = true
		nbWorld(fx, "c1")
		fx.vm("public", "good", "host1", "fa:16:3e:00:01:11 172.24.4.11", "172.24.4.11/24")
		bad := fx.vm("public", "bad", "host1", addrs, cidrs)
		bad.Options["requested-chassis"] = rc
		fx.up(bad)
		fx.vm("private", "badtenant", "host2", addrs, cidrs)
		fx.iface("r1", "private", network, "")
		fx.router("r3")
		gw := fx.gateway("r3", "public", "c1", network)
		gw.MAC = lrpMAC
		fx.up(gw)
		n := &nbdb.NAT{UUID: "natbad", Type: "dnat_and_snat", ExternalIP: extIP, LogicalIP: "10.0.0.10",
			LogicalPort: nbPtr("bad"), ExternalIDs: map[string]string{"neutron:fip_network_id": "public"}}
		if extMAC != "" {
			n.ExternalMAC = nbPtr(extMAC)
		}
		fx.nat("r1", n)
		fx.lb("r1", "lbbad", map[string]string{vip: "10.0.0.10:80"},
			map[string]string{"neutron:vip": neutronVIP, "neutron:vip_fip": neutronVIP, "neutron:vip_port_id": "bad"})
		fx.lb("r3", "pf-floatingip-bad-tcp", map[string]string{vip: "10.0.0.10:22"},
			map[string]string{"neutron:router_name": network})
		st, w := fx.planAs(t, northbound.Identity{})
		found := false
		for _, a := range st.Announcements {
			// A bad row may claim the same prefix (and win by kind): the
			// prefix must stay announced either way.
			if a.Prefix.String() == "172.24.4.11/32" {
				found = true
			}
		}
		if !found {
			t.Fatalf("the healthy port was not planned: %+v", st.Announcements)
		}
		for _, x := range w {
			if invalidCount(t, x.Table, x.Reason) < 1 {
				t.Fatalf("warning %+v not counted in ovnbgp_plan_invalid_rows_total", x)
			}
		}
		for _, x := range w {
			if x.Reason == "" || x.Table == "" {
				t.Fatalf("incomplete warning %+v", x)
			}
		}
	})
}

// TestNBMalformedRowsWarn checks that the fuzz seeds warn with the metric
// counted per table and reason.
func TestNBMalformedRowsWarn(t *testing.T) {
	fx := newNBFx()
	nbWorld(fx, "c1")
	fx.vm("public", "good", "host1", "fa:16:3e:00:01:11 172.24.4.11", "172.24.4.11/24")
	fx.vm("public", "bad", "host1", "zz:zz 172.24.4.999", "10.0.0.300/24")
	fx.fip("r1", "natbad", "1.2.3", "10.0.0.10", "", "", "public")
	fx.lb("r1", "pf-floatingip-bad-tcp", map[string]string{"[::1]:80x": "10.0.0.10:22"}, nil)
	before := invalidCount(t, nbdb.LogicalSwitchPortTable, "bad-address")
	st, w := fx.planAs(t, northbound.Identity{})
	reasons := map[string]bool{}
	for _, x := range w {
		reasons[x.Table+"/"+x.Reason] = true
	}
	for _, r := range []string{"Logical_Switch_Port/bad-mac", "Logical_Switch_Port/bad-address", "Logical_Switch_Port/bad-cidr",
		"NAT/bad-external-ip", "Load_Balancer/bad-vip"} {
		if !reasons[r] {
			t.Errorf("no %s warning in %v", r, w)
		}
	}
	if got := invalidCount(t, nbdb.LogicalSwitchPortTable, "bad-address"); got != before+1 {
		t.Errorf("ovnbgp_plan_invalid_rows_total{bad-address} went from %v to %v", before, got)
	}
	found := false
	for _, a := range st.Announcements {
		found = found || a.Port == "good"
	}
	if !found {
		t.Fatalf("healthy port missing: %+v", st.Announcements)
	}
}

// invalidCount reads ovnbgp_plan_invalid_rows_total{table,reason}.
func invalidCount(t *testing.T, table, reason string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(plan.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "ovnbgp_plan_invalid_rows_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, lp := range m.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			if l["table"] == table && l["reason"] == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
