package linux

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// benchExposures returns n exposures on br-ex: 70% IPv4 /32, 30% IPv6
// /128, one in ten with a MAC (permanent neighbour), all announced.
func benchExposures(n int) []plan.Exposure {
	out := make([]plan.Exposure, 0, n)
	for i := range n {
		var p netip.Prefix
		if i%10 < 7 {
			p = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 32)
		} else {
			p = netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 13: byte(i >> 16), 14: byte(i >> 8), 15: byte(i)}), 128)
		}
		e := plan.Exposure{Prefix: p, Bridge: "br-ex", Announce: true}
		if i%10 == 0 {
			e.MAC = fmt.Sprintf("fa:16:3e:%02x:%02x:%02x", byte(i>>16), byte(i>>8), byte(i))
		}
		out = append(out, e)
	}
	return out
}

func benchState(n int) *plan.State {
	return &plan.State{Wiring: plan.Wiring{
		Bridges:   []plan.BridgeWiring{{Bridge: "br-ex", Physnet: "physnet1", Index: 1}},
		Exposures: benchExposures(n),
	}}
}

// BenchmarkWire10k wires 10,000 exposures into an empty namespace (table
// method: rule + route + announce route each, a neighbour for one in ten).
func BenchmarkWire10k(b *testing.B) {
	for _, mode := range []string{RulePerPrefix, RulePerTable} {
		b.Run("rules="+mode, func(b *testing.B) { benchWire10k(b, mode) })
	}
}

func benchWire10k(b *testing.B, mode string) {
	st := benchState(10000)
	var reqs, calls uint64
	for b.Loop() {
		b.StopTimer()
		n := newTestNS(b, "br-ex")
		o := n.options(AnnounceTable)
		o.RuleMode = mode
		r, err := New(o)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := r.Wire(context.Background(), st); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s := r.Stats()
		reqs += s.NLRequests
		calls += s.NLSyscalls
		if (mode == RulePerPrefix && s.Objects["rule"] != 10000) || s.Objects["route"] != 20002 {
			b.Fatalf("wired %v", s.Objects)
		}
		r.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(reqs)/float64(b.N), "nlrequests/op")
	b.ReportMetric(float64(calls)/float64(b.N), "syscalls/op")
}

// BenchmarkOneChange adds one exposure (WireDelta) or removes it
// (UnwireDelta), alternately, on top of 10,000 wired ones.
func BenchmarkOneChange(b *testing.B) {
	for _, mode := range []string{RulePerPrefix, RulePerTable} {
		b.Run("rules="+mode, func(b *testing.B) { benchOneChange(b, mode) })
	}
}

func benchOneChange(b *testing.B, mode string) {
	n := newTestNS(b, "br-ex")
	o := n.options(AnnounceTable)
	o.RuleMode = mode
	r, err := New(o)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	if err := r.Wire(ctx, benchState(10000)); err != nil {
		b.Fatal(err)
	}
	extra := plan.Exposure{Prefix: netip.MustParsePrefix("192.0.2.77/32"), Bridge: "br-ex", Announce: true, MAC: "fa:16:3e:aa:bb:cc"}
	d := &plan.Delta{Wire: []plan.Exposure{extra}, Unwire: []plan.Exposure{extra}}
	s0 := r.Stats()
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			err = r.WireDelta(ctx, d)
		} else {
			err = r.UnwireDelta(ctx, d)
		}
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
	s := r.Stats()
	b.ReportMetric(float64(s.NLRequests-s0.NLRequests)/float64(b.N), "nlrequests/op")
	b.ReportMetric(float64(s.NLSyscalls-s0.NLSyscalls)/float64(b.N), "syscalls/op")
}

// BenchmarkRewire10k is the periodic full pass over 10,000 wired exposures
// that changed nothing: one dump per object type, the diff, no write.
func BenchmarkRewire10k(b *testing.B) {
	n := newTestNS(b, "br-ex")
	r, err := New(n.options(AnnounceTable))
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	st := benchState(10000)
	if err := r.Wire(ctx, st); err != nil {
		b.Fatal(err)
	}
	s0 := r.Stats()
	for b.Loop() {
		if err := r.Wire(ctx, st); err != nil {
			b.Fatal(err)
		}
	}
	s := r.Stats()
	b.ReportMetric(float64(s.NLRequests-s0.NLRequests)/float64(b.N), "nlrequests/op")
	b.ReportMetric(float64(s.NLSyscalls-s0.NLSyscalls)/float64(b.N), "syscalls/op")
}
