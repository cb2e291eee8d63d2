package nbvrf

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/plan"
)

// The Logical_Switch external_ids that put a provider network in a tenant
// VRF (networking-bgpvpn's OVN driver, or an operator by hand): upstream's
// names.
const (
	KeyType = "neutron_bgpvpn:type" // "l3" (the only type of this method)
	KeyVNI  = "neutron_bgpvpn:vni"  // 1..16777215
	KeyRT   = "neutron_bgpvpn:rt"   // route targets, imported and exported
	KeyRD   = "neutron_bgpvpn:rd"   // route distinguishers; the first is used
	KeyIT   = "neutron_bgpvpn:it"   // route targets, imported only
	KeyET   = "neutron_bgpvpn:et"   // route targets, exported only
)

// Tenant is what a switch's keys ask for.
type Tenant struct {
	VNI      uint32
	RD       string   // "" for the default <evpn_local_ip>:<vni>
	ImportRT []string // rt then it, without duplicates
	ExportRT []string // rt then et, without duplicates
}

// errNotTenant: the switch has no bgpvpn keys (not an error).
var errNotTenant = errors.New("not a tenant network")

// ParseTenant reads the keys of one switch. A switch without
// neutron_bgpvpn:type and :vni is not a tenant (errNotTenant); any other
// problem is an error naming the key, and the switch is not served (a
// tenant with a wrong route target would receive another tenant's routes).
func ParseTenant(ids map[string]string) (Tenant, error) {
	typ, hasType := ids[KeyType]
	vniS, hasVNI := ids[KeyVNI]
	if !hasType && !hasVNI {
		return Tenant{}, errNotTenant
	}
	var t Tenant
	if strings.TrimSpace(typ) != "l3" {
		return t, fmt.Errorf("%s = %q: only l3 is served by exposing_method = vrf", KeyType, typ)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(vniS), 10, 32)
	if err != nil || n < 1 || n > plan.MaxVNI {
		return t, fmt.Errorf("%s = %q: must be a VNI 1..%d", KeyVNI, vniS, plan.MaxVNI)
	}
	t.VNI = uint32(n)
	lists := map[string][]string{}
	for _, k := range []string{KeyRT, KeyRD, KeyIT, KeyET} {
		v, ok := ids[k]
		if !ok {
			continue
		}
		l, err := ParseList(v)
		if err != nil {
			return t, fmt.Errorf("%s = %q: %v", k, v, err)
		}
		for _, x := range l {
			check := plan.ValidRouteTarget
			if k == KeyRD {
				check = plan.ValidRouteDistinguisher
			}
			if err := check(x); err != nil {
				return t, fmt.Errorf("%s: %v", k, err)
			}
		}
		lists[k] = l
	}
	if rd := lists[KeyRD]; len(rd) > 0 {
		t.RD = rd[0]
	}
	t.ImportRT = dedup(lists[KeyRT], lists[KeyIT])
	t.ExportRT = dedup(lists[KeyRT], lists[KeyET])
	return t, nil
}

func dedup(lists ...[]string) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range lists {
		for _, x := range l {
			if !seen[x] {
				seen[x] = true
				out = append(out, x)
			}
		}
	}
	return out
}

// ParseList reads a list of strings written as a Python literal, the form
// upstream reads with ast.literal_eval: `['64512:1', "64512:2"]`, a tuple,
// `[]`, a trailing comma. Escapes, nested lists and bare words are refused
// (upstream would iterate a bare string character by character).
func ParseList(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 || !(s[0] == '[' && s[len(s)-1] == ']' || s[0] == '(' && s[len(s)-1] == ')') {
		return nil, errors.New("not a list written as a Python literal, e.g. ['64512:100']")
	}
	body := s[1 : len(s)-1]
	var out []string
	for i := 0; ; {
		for i < len(body) && isSpace(body[i]) {
			i++
		}
		if i == len(body) {
			return out, nil
		}
		q := body[i]
		if q != '\'' && q != '"' {
			return nil, fmt.Errorf("element %d is not a quoted string", len(out)+1)
		}
		j := strings.IndexByte(body[i+1:], q)
		if j < 0 {
			return nil, fmt.Errorf("element %d: unterminated string", len(out)+1)
		}
		v := body[i+1 : i+1+j]
		if strings.ContainsAny(v, "\\\n\r\t") {
			return nil, fmt.Errorf("element %d: escapes and control characters are not accepted", len(out)+1)
		}
		if v = strings.TrimSpace(v); v == "" {
			return nil, fmt.Errorf("element %d is empty", len(out)+1)
		}
		out = append(out, v)
		i += j + 2
		for i < len(body) && isSpace(body[i]) {
			i++
		}
		if i == len(body) {
			return out, nil
		}
		if body[i] != ',' {
			return nil, fmt.Errorf("expected a comma after element %d", len(out))
		}
		i++
	}
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' }
