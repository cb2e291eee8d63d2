package frr

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/ovnbgp/ovnbgp/internal/speaker"
)

// summaryJSON is `show bgp summary json`: one object per address family.
type summaryJSON map[string]struct {
	RouterID string `json:"routerId"`
	AS       uint32 `json:"as"`
	Peers    map[string]struct {
		RemoteAS       uint32 `json:"remoteAs"`
		State          string `json:"state"`
		PeerUptimeMsec int64  `json:"peerUptimeMsec"`
		PfxRcd         int    `json:"pfxRcd"`
		PfxSnt         int    `json:"pfxSnt"`
		Hostname       string `json:"hostname"`
	} `json:"peers"`
}

// bfdPeerJSON is one entry of `show bfd peers json`.
type bfdPeerJSON struct {
	Peer      string `json:"peer"`
	Interface string `json:"interface"`
	Status    string `json:"status"`
}

// ribJSON is `show bgp ipv4|ipv6 unicast json`.
type ribJSON struct {
	Routes map[string][]struct {
		Valid      bool   `json:"valid"`
		Bestpath   bool   `json:"bestpath"`
		PeerID     string `json:"peerId"`
		NhVrfName  string `json:"nhVrfName"`
		Network    string `json:"network"`
		PrefixLen  int    `json:"prefixLen"`
		SourceVrf  string `json:"sourceVrf"`
		Selection  string `json:"selectionReason"`
		AnnounceNH bool   `json:"announceNexthopSelf"`
	} `json:"routes"`
}

// parseSummary turns `show bgp summary json` into peers (merged over the
// address families), the router id and the AS.
func parseSummary(data []byte) (peers []speaker.Peer, routerID string, as uint32, err error) {
	var s summaryJSON
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil, "", 0, nil
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, "", 0, fmt.Errorf("show bgp summary json: %w", err)
	}
	by := map[string]*speaker.Peer{}
	afs := make([]string, 0, len(s))
	for af := range s {
		afs = append(afs, af)
	}
	sort.Strings(afs)
	for _, af := range afs {
		sum := s[af]
		if routerID == "" || af == "ipv4Unicast" {
			if sum.RouterID != "" {
				routerID = sum.RouterID
			}
			if sum.AS != 0 {
				as = sum.AS
			}
		}
		for addr, p := range sum.Peers {
			q := by[addr]
			if q == nil {
				q = &speaker.Peer{Address: addr, RemoteAS: p.RemoteAS, State: p.State,
					Uptime: time.Duration(p.PeerUptimeMsec) * time.Millisecond}
				by[addr] = q
			}
			if p.State == "Established" {
				q.State = p.State
			}
			q.PrefixesSent += p.PfxSnt
			q.PrefixesRecvd += p.PfxRcd
		}
	}
	for _, p := range by {
		peers = append(peers, *p)
	}
	sort.Slice(peers, func(i, j int) bool { return peers[i].Address < peers[j].Address })
	return peers, routerID, as, nil
}

// parseBFD returns the BFD state per peer address and per interface.
func parseBFD(data []byte) (map[string]string, error) {
	var ps []bfdPeerJSON
	if len(strings.TrimSpace(string(data))) == 0 {
		return map[string]string{}, nil
	}
	if err := json.Unmarshal(data, &ps); err != nil {
		return nil, fmt.Errorf("show bfd peers json: %w", err)
	}
	m := map[string]string{}
	for _, p := range ps {
		if p.Peer != "" {
			m[p.Peer] = p.Status
		}
		if p.Interface != "" {
			m[p.Interface] = p.Status
		}
	}
	return m, nil
}

// parseLocal returns the prefixes of a BGP table whose best path ovnbgp's
// configuration originates: redistributed (peer "(unspec)") or imported
// from bgp_vrf.
func parseLocal(data []byte, vrf string) ([]netip.Prefix, error) {
	var r ribJSON
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil, nil
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("show bgp unicast json: %w", err)
	}
	var out []netip.Prefix
	for key, paths := range r.Routes {
		for _, p := range paths {
			if !p.Valid || !p.Bestpath {
				continue
			}
			if p.PeerID == "(unspec)" || (vrf != "" && p.NhVrfName == vrf) {
				if pfx, err := netip.ParsePrefix(key); err == nil {
					out = append(out, pfx.Masked())
				}
				break
			}
		}
	}
	sortPrefixes(out)
	return out, nil
}

func sortPrefixes(ps []netip.Prefix) {
	sort.Slice(ps, func(i, j int) bool {
		if c := ps[i].Addr().Compare(ps[j].Addr()); c != 0 {
			return c < 0
		}
		return ps[i].Bits() < ps[j].Bits()
	})
}

// compare returns what is expected and not advertised, and what is
// advertised and not expected.
func compare(expected map[netip.Prefix]bool, advertised []netip.Prefix) (missing, extra []netip.Prefix) {
	adv := map[netip.Prefix]bool{}
	for _, p := range advertised {
		adv[p] = true
		if !expected[p] {
			extra = append(extra, p)
		}
	}
	for p := range expected {
		if !adv[p] {
			missing = append(missing, p)
		}
	}
	sortPrefixes(missing)
	sortPrefixes(extra)
	return missing, extra
}

// isHost reports whether p is a /32 or /128.
func isHost(p netip.Prefix) bool { return p.Bits() == p.Addr().BitLen() }

// parseRunning reads `show running-config` into the set of line paths
// (context lines and the line, joined by "\x00"), following indentation.
func parseRunning(text string) map[string]bool {
	set := map[string]bool{}
	type frame struct {
		indent int
		line   string
	}
	var stack []frame
	for _, raw := range strings.Split(text, "\n") {
		line := strings.TrimRight(raw, " \r")
		t := strings.TrimSpace(line)
		if t == "" || t == "!" || t == "exit" || t == "exit-address-family" || t == "end" || strings.HasPrefix(t, "exit-vrf") {
			continue
		}
		ind := len(line) - len(strings.TrimLeft(line, " "))
		for len(stack) > 0 && stack[len(stack)-1].indent >= ind {
			stack = stack[:len(stack)-1]
		}
		parts := make([]string, 0, len(stack)+1)
		for _, f := range stack {
			parts = append(parts, f.line)
		}
		parts = append(parts, t)
		set[strings.Join(parts, "\x00")] = true
		stack = append(stack, frame{ind, t})
	}
	return set
}

// paths returns the line paths of a rendering (every line, contexts included).
func paths(nodes []*Node) []string {
	var out []string
	var walk func(ns []*Node, pre []string)
	walk = func(ns []*Node, pre []string) {
		for _, n := range ns {
			p := append(append([]string(nil), pre...), n.Line)
			out = append(out, strings.Join(p, "\x00"))
			walk(n.Children, p)
		}
	}
	walk(nodes, nil)
	return out
}
