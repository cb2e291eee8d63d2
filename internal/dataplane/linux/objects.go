package linux

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// kind is the type of one kernel object the reconciler owns.
type kind uint8

const (
	kindRule  kind = iota + 1 // ip rule to <dst> lookup <table> pref <prio>
	kindRoute                 // route <dst> in <table>
	kindNeigh                 // permanent neighbour <dst> on <link>
	kindProxy                 // IPv6 NDP proxy entry <dst> on <link>
	kindAddr                  // address <dst> on <link>
)

var kindNames = [...]string{kindRule: "rule", kindRoute: "route", kindNeigh: "neighbour", kindProxy: "ndp_proxy", kindAddr: "address"}

func (k kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("kind%d", k)
}

// objID is the identity of one kernel object: two objects with the same id
// cannot coexist in the kernel (for a route: one per table and
// destination, since ovnbgp uses no metrics).
type objID struct {
	kind  kind
	table uint32       // rule, route
	prio  uint32       // rule
	link  int32        // neighbour, proxy, address
	dst   netip.Prefix // rule and route destination; neighbour/proxy IP as a host prefix; address with its length
}

func (id objID) String() string {
	switch id.kind {
	case kindRule:
		return fmt.Sprintf("rule to %s lookup %d pref %d", id.dst, id.table, id.prio)
	case kindRoute:
		return fmt.Sprintf("route %s table %d", id.dst, id.table)
	default:
		return fmt.Sprintf("%s %s ifindex %d", id.kind, id.dst, id.link)
	}
}

// objVal holds the attributes of an object that can change in place.
type objVal struct {
	link  int32      // route: output device
	via   netip.Addr // route: gateway
	proto uint8      // route: protocol; neighbour, proxy: NDA_PROTOCOL (ovnbgp's marker)
	mac   [6]byte    // neighbour: link-layer address
}

func (id objID) family() uint8 {
	if id.dst.Addr().Is4() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

// hostPrefix is the full-length prefix of an address.
func hostPrefix(a netip.Addr) netip.Prefix {
	return netip.PrefixFrom(a, a.BitLen())
}

// ---------------------------------------------------------------- encoders

func tableByte(t uint32) uint8 {
	if t < 256 {
		return uint8(t)
	}
	return unix.RT_TABLE_UNSPEC
}

// encRule encodes a rule: `to <dst> lookup <table> pref <prio>`, or for a
// /0 destination the table-wide rule `lookup <table> suppress_prefixlength
// 0 pref <prio>` (a default route in the table is ignored).
func encRule(id objID, proto uint8, add bool) nlReq {
	b := make([]byte, 0, 48)
	b = append(b, id.family(), uint8(id.dst.Bits()), 0, 0, tableByte(id.table), 0, 0, unix.FR_ACT_TO_TBL)
	b = binary.NativeEndian.AppendUint32(b, 0)
	if id.dst.Bits() > 0 {
		b = appendAttr(b, unix.FRA_DST, id.dst.Addr().AsSlice())
	} else {
		b = appendAttrU32(b, unix.FRA_SUPPRESS_PREFIXLEN, 0)
	}
	b = appendAttrU32(b, unix.FRA_PRIORITY, id.prio)
	b = appendAttrU32(b, unix.FRA_TABLE, id.table)
	if add {
		b = appendAttr(b, unix.FRA_PROTOCOL, []byte{proto})
		return nlReq{typ: unix.RTM_NEWRULE, flags: unix.NLM_F_CREATE | unix.NLM_F_EXCL, data: b}
	}
	return nlReq{typ: unix.RTM_DELRULE, data: b}
}

func encRoute(id objID, v objVal, add bool) nlReq {
	scope := uint8(unix.RT_SCOPE_UNIVERSE)
	if add && id.family() == unix.AF_INET && !v.via.IsValid() {
		scope = unix.RT_SCOPE_LINK
	}
	typ := uint8(unix.RTN_UNICAST)
	proto := v.proto
	if !add {
		scope = unix.RT_SCOPE_NOWHERE
		typ = unix.RTN_UNSPEC
	}
	b := make([]byte, 0, 64)
	b = append(b, id.family(), uint8(id.dst.Bits()), 0, 0, tableByte(id.table), proto, scope, typ)
	b = binary.NativeEndian.AppendUint32(b, 0)
	b = appendAttr(b, unix.RTA_DST, id.dst.Addr().AsSlice())
	b = appendAttrU32(b, unix.RTA_TABLE, id.table)
	if !add {
		return nlReq{typ: unix.RTM_DELROUTE, data: b}
	}
	b = appendAttrU32(b, unix.RTA_OIF, uint32(v.link))
	if v.via.IsValid() {
		b = appendAttr(b, unix.RTA_GATEWAY, v.via.AsSlice())
	}
	return nlReq{typ: unix.RTM_NEWROUTE, flags: unix.NLM_F_CREATE | unix.NLM_F_REPLACE, data: b}
}

// ndaProtocol is the neighbour attribute NDA_PROTOCOL (Linux 5.8), the
// marker of ovnbgp's neighbours and NDP proxy entries.
const ndaProtocol = 12

func encNeigh(id objID, v objVal, add bool) nlReq {
	var flags uint8
	if id.kind == kindProxy {
		flags = unix.NTF_PROXY
	}
	b := make([]byte, 0, 48)
	b = append(b, id.family(), 0, 0, 0)
	b = binary.NativeEndian.AppendUint32(b, uint32(id.link))
	b = binary.NativeEndian.AppendUint16(b, unix.NUD_PERMANENT)
	b = append(b, flags, 0)
	b = appendAttr(b, unix.NDA_DST, id.dst.Addr().AsSlice())
	if !add {
		return nlReq{typ: unix.RTM_DELNEIGH, data: b}
	}
	if id.kind == kindNeigh {
		b = appendAttr(b, unix.NDA_LLADDR, v.mac[:])
	}
	b = appendAttr(b, ndaProtocol, []byte{v.proto})
	return nlReq{typ: unix.RTM_NEWNEIGH, flags: unix.NLM_F_CREATE | unix.NLM_F_REPLACE, data: b}
}

func encAddr(id objID, add bool) nlReq {
	var f uint32
	if id.family() == unix.AF_INET6 {
		f = unix.IFA_F_NODAD
	}
	b := make([]byte, 0, 64)
	b = append(b, id.family(), uint8(id.dst.Bits()), uint8(f), 0)
	b = binary.NativeEndian.AppendUint32(b, uint32(id.link))
	a := id.dst.Addr().AsSlice()
	b = appendAttr(b, unix.IFA_LOCAL, a)
	b = appendAttr(b, unix.IFA_ADDRESS, a)
	if !add {
		return nlReq{typ: unix.RTM_DELADDR, data: b}
	}
	b = appendAttrU32(b, unix.IFA_FLAGS, f)
	return nlReq{typ: unix.RTM_NEWADDR, flags: unix.NLM_F_CREATE | unix.NLM_F_REPLACE, data: b}
}

// encode builds the request that makes the kernel match (id, v), or that
// deletes id.
func encode(id objID, v objVal, add bool, proto uint8) nlReq {
	switch id.kind {
	case kindRule:
		return encRule(id, proto, add)
	case kindRoute:
		return encRoute(id, v, add)
	case kindNeigh, kindProxy:
		return encNeigh(id, v, add)
	default:
		return encAddr(id, add)
	}
}

// ---------------------------------------------------------------- parsers

func addrFrom(b []byte) (netip.Addr, bool) {
	switch len(b) {
	case 4:
		return netip.AddrFrom4([4]byte(b)), true
	case 16:
		return netip.AddrFrom16([16]byte(b)), true
	}
	return netip.Addr{}, false
}

func zeroAddr(family uint8) netip.Addr {
	if family == unix.AF_INET {
		return netip.IPv4Unspecified()
	}
	return netip.IPv6Unspecified()
}

// parsedRule is a rule message. plain is true when the rule selects by
// destination only and jumps to a table (the shape upstream and the prefix
// rule mode write); tableWide when it has no selector, jumps to a table and
// suppresses prefix lengths 0 (the table rule mode).
type parsedRule struct {
	id        objID
	plain     bool
	tableWide bool
	proto     uint8
}

func parseRule(msg []byte) (parsedRule, bool) {
	if len(msg) < 12 {
		return parsedRule{}, false
	}
	fam, dstLen, srcLen, tos, table, action := msg[0], msg[1], msg[2], msg[3], uint32(msg[4]), msg[7]
	flags := binary.NativeEndian.Uint32(msg[8:12])
	if fam != unix.AF_INET && fam != unix.AF_INET6 {
		return parsedRule{}, false
	}
	var t attrTable
	parseAttrs(msg[12:], &t)
	if v := t[unix.FRA_TABLE]; len(v) == 4 {
		table = binary.NativeEndian.Uint32(v)
	}
	var prio uint32
	if v := t[unix.FRA_PRIORITY]; len(v) == 4 {
		prio = binary.NativeEndian.Uint32(v)
	}
	dst := netip.PrefixFrom(zeroAddr(fam), 0)
	if a, ok := addrFrom(t[unix.FRA_DST]); ok {
		dst = netip.PrefixFrom(a, int(dstLen))
	}
	p := parsedRule{id: objID{kind: kindRule, table: table, prio: prio, dst: dst}}
	if v := t[unix.FRA_PROTOCOL]; len(v) == 1 {
		p.proto = v[0]
	}
	simple := action == unix.FR_ACT_TO_TBL && srcLen == 0 && tos == 0 && flags&unix.FIB_RULE_INVERT == 0 &&
		t[unix.FRA_IIFNAME] == nil && t[unix.FRA_OIFNAME] == nil && t[unix.FRA_FWMARK] == nil &&
		t[unix.FRA_FWMASK] == nil && t[unix.FRA_L3MDEV] == nil && t[unix.FRA_UID_RANGE] == nil &&
		t[unix.FRA_IP_PROTO] == nil && t[unix.FRA_SPORT_RANGE] == nil && t[unix.FRA_DPORT_RANGE] == nil &&
		t[unix.FRA_GOTO] == nil && !suppressSet(t[unix.FRA_SUPPRESS_IFGROUP])
	sp := t[unix.FRA_SUPPRESS_PREFIXLEN]
	p.plain = simple && dstLen > 0 && !suppressSet(sp)
	p.tableWide = simple && dstLen == 0 && len(sp) == 4 && binary.NativeEndian.Uint32(sp) == 0
	return p, true
}

func suppressSet(v []byte) bool {
	return len(v) == 4 && binary.NativeEndian.Uint32(v) != 0xffffffff
}

// parseRoute parses a route message; ok is false for anything but a plain
// unicast route of one next hop.
func parseRoute(msg []byte) (objID, objVal, bool) {
	if len(msg) < 12 {
		return objID{}, objVal{}, false
	}
	fam, dstLen, srcLen, table, proto, typ := msg[0], msg[1], msg[2], uint32(msg[4]), msg[5], msg[7]
	flags := binary.NativeEndian.Uint32(msg[8:12])
	if (fam != unix.AF_INET && fam != unix.AF_INET6) || typ != unix.RTN_UNICAST || srcLen != 0 || flags&unix.RTM_F_CLONED != 0 {
		return objID{}, objVal{}, false
	}
	var t attrTable
	parseAttrs(msg[12:], &t)
	if t[unix.RTA_MULTIPATH] != nil {
		return objID{}, objVal{}, false
	}
	if v := t[unix.RTA_TABLE]; len(v) == 4 {
		table = binary.NativeEndian.Uint32(v)
	}
	dst := netip.PrefixFrom(zeroAddr(fam), 0)
	if a, ok := addrFrom(t[unix.RTA_DST]); ok {
		dst = netip.PrefixFrom(a, int(dstLen))
	}
	v := objVal{proto: proto}
	if b := t[unix.RTA_OIF]; len(b) == 4 {
		v.link = int32(binary.NativeEndian.Uint32(b))
	}
	if a, ok := addrFrom(t[unix.RTA_GATEWAY]); ok {
		v.via = a
	}
	return objID{kind: kindRoute, table: table, dst: dst}, v, true
}

// parseNeigh parses a neighbour message: permanent entries and proxy
// entries only.
func parseNeigh(msg []byte) (objID, objVal, bool) {
	if len(msg) < 12 {
		return objID{}, objVal{}, false
	}
	fam := msg[0]
	link := int32(binary.NativeEndian.Uint32(msg[4:8]))
	state := binary.NativeEndian.Uint16(msg[8:10])
	flags := msg[10]
	var t attrTable
	parseAttrs(msg[12:], &t)
	a, ok := addrFrom(t[unix.NDA_DST])
	if !ok || (fam != unix.AF_INET && fam != unix.AF_INET6) {
		return objID{}, objVal{}, false
	}
	id := objID{kind: kindNeigh, link: link, dst: hostPrefix(a)}
	var v objVal
	if p := t[ndaProtocol]; len(p) == 1 {
		v.proto = p[0]
	}
	switch {
	case flags&unix.NTF_PROXY != 0:
		id.kind = kindProxy
	case state&unix.NUD_PERMANENT != 0:
		if len(t[unix.NDA_LLADDR]) == 6 {
			copy(v.mac[:], t[unix.NDA_LLADDR])
		}
	default:
		return objID{}, objVal{}, false
	}
	return id, v, true
}

func parseAddr(msg []byte) (objID, bool) {
	if len(msg) < 8 {
		return objID{}, false
	}
	fam, plen := msg[0], int(msg[1])
	link := int32(binary.NativeEndian.Uint32(msg[4:8]))
	var t attrTable
	parseAttrs(msg[8:], &t)
	b := t[unix.IFA_LOCAL]
	if b == nil {
		b = t[unix.IFA_ADDRESS]
	}
	a, ok := addrFrom(b)
	if !ok || (fam != unix.AF_INET && fam != unix.AF_INET6) {
		return objID{}, false
	}
	return objID{kind: kindAddr, link: link, dst: netip.PrefixFrom(a, plen)}, true
}

// linkInfo is what the reconciler needs to know of a network device.
type linkInfo struct {
	index  int32
	name   string
	up     bool
	master int32
	parent int32  // IFLA_LINK (VLAN parent)
	kind   string // IFLA_INFO_KIND: "vrf", "dummy", "vlan", "bridge", "openvswitch", ...
	vlanID int
	table  uint32 // VRF table
}

func parseLink(msg []byte) (linkInfo, bool) {
	if len(msg) < 16 {
		return linkInfo{}, false
	}
	l := linkInfo{index: int32(binary.NativeEndian.Uint32(msg[4:8]))}
	l.up = binary.NativeEndian.Uint32(msg[8:12])&unix.IFF_UP != 0
	var t attrTable
	parseAttrs(msg[16:], &t)
	name := t[unix.IFLA_IFNAME]
	for len(name) > 0 && name[len(name)-1] == 0 {
		name = name[:len(name)-1]
	}
	l.name = string(name)
	if v := t[unix.IFLA_MASTER]; len(v) == 4 {
		l.master = int32(binary.NativeEndian.Uint32(v))
	}
	if v := t[unix.IFLA_LINK]; len(v) == 4 {
		l.parent = int32(binary.NativeEndian.Uint32(v))
	}
	if li := t[unix.IFLA_LINKINFO]; li != nil {
		var it attrTable
		parseAttrs(li, &it)
		k := it[unix.IFLA_INFO_KIND]
		for len(k) > 0 && k[len(k)-1] == 0 {
			k = k[:len(k)-1]
		}
		l.kind = string(k)
		var dt attrTable
		parseAttrs(it[unix.IFLA_INFO_DATA], &dt)
		switch l.kind {
		case "vlan":
			if v := dt[unix.IFLA_VLAN_ID]; len(v) >= 2 {
				l.vlanID = int(binary.NativeEndian.Uint16(v))
			}
		case "vrf":
			if v := dt[unix.IFLA_VRF_TABLE]; len(v) == 4 {
				l.table = binary.NativeEndian.Uint32(v)
			}
		}
	}
	return l, l.name != ""
}
