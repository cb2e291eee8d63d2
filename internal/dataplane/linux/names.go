package linux

import (
	"bufio"
	"bytes"
	"fmt"
	"hash/fnv"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/ovnbgp/ovnbgp/internal/config"
)

// ifNameMax is IFNAMSIZ - 1: the longest interface name Linux accepts.
const ifNameMax = 15

// VLANDeviceName is the name of the VLAN device for tag on bridge.
//
// The rule: "<bridge>.<tag>" when that fits in 15 characters (upstream's
// name, so a host migrated from upstream keeps its devices). Otherwise the
// bridge name is cut and 4 hex digits of the FNV-1a hash of the whole
// bridge name are appended before the dot: "<cut><hash>.<tag>", exactly 15
// characters. Two bridges that share their first characters therefore get
// different names (upstream cut to 10 characters and collided, and cut
// "br-provider.1001" to "br-provider.100"); the tag is never cut. The
// remaining collision chance (same cut prefix and same 16-bit hash) is
// detected by the reconciler, which then refuses the second device.
func VLANDeviceName(bridge string, tag int) string {
	suffix := "." + strconv.Itoa(tag)
	if len(bridge)+len(suffix) <= ifNameMax {
		return bridge + suffix
	}
	h := fnv.New32a()
	h.Write([]byte(bridge))
	sum := fmt.Sprintf("%04x", h.Sum32()&0xffff)
	keep := max(ifNameMax-len(suffix)-len(sum), 0)
	return bridge[:keep] + sum + suffix
}

// LinkAddresses are the addresses upstream puts on a provider bridge (vlan
// 0) or on one of its VLAN devices, so that the host has a source address
// for ARP and NDP towards the provider network; i is the 1-based position
// of the bridge in ovn-bridge-mappings. Upstream changed them in 5.0
// (commit fd029f9, "Ensure that ARP/NDP is enabled for vlan devices"), so
// scheme (config.LinkAddresses40 or LinkAddresses50) names the release
// whose bridge addresses to write:
//
//   - "4.0" (upstream up to 4.0.0, Debian 13's package):
//     169.254.<i/256>.<i%256>/32 and fd53:d91e:400:7f17::<i>/128 on the
//     bridge (upstream's "%d" of the float i/256 is the integer quotient);
//   - "5.0" (upstream 5.0 and later): 169.254.<i%256>.<i%256>/32 and
//     fd53:d91e:400:7f17::<i>:<i>/128.
//
// A VLAN device gets, with either scheme, 5.0's addresses with the tag
// modulo 256 in place of the second <i> (upstream 4.0 gives VLAN devices
// none; these never equal a bridge's under either scheme for i < 256).
func LinkAddresses(scheme string, index, vlan int) (netip.Prefix, netip.Prefix) {
	var a16 [16]byte
	copy(a16[:], []byte{0xfd, 0x53, 0xd9, 0x1e, 0x04, 0x00, 0x7f, 0x17})
	if vlan == 0 && scheme == config.LinkAddresses40 {
		v4 := netip.AddrFrom4([4]byte{169, 254, byte(index / 256), byte(index % 256)})
		a16[14], a16[15] = byte(index>>8), byte(index)
		return netip.PrefixFrom(v4, 32), netip.PrefixFrom(netip.AddrFrom16(a16), 128)
	}
	second := index
	if vlan != 0 {
		second = vlan % 256
	}
	v4 := netip.AddrFrom4([4]byte{169, 254, byte(index % 256), byte(second)})
	a16[12], a16[13] = byte(index>>8), byte(index)
	a16[14], a16[15] = byte(second>>8), byte(second)
	return netip.PrefixFrom(v4, 32), netip.PrefixFrom(netip.AddrFrom16(a16), 128)
}

// isLinkAddress reports whether p has the shape of a LinkAddresses address
// (the ones the reconciler owns on provider devices).
func isLinkAddress(p netip.Prefix) bool {
	a := p.Addr()
	if a.Is4() {
		b := a.As4()
		return p.Bits() == 32 && b[0] == 169 && b[1] == 254
	}
	b := a.As16()
	return p.Bits() == 128 && bytes.Equal(b[:12], []byte{0xfd, 0x53, 0xd9, 0x1e, 0x04, 0x00, 0x7f, 0x17, 0, 0, 0, 0})
}

// rulePriority is the priority of the rule for p: the longer the prefix,
// the lower (earlier) the priority, so that the rules implement
// longest-prefix match across bridge tables: /32 and /128 get base, a /24
// base+8, a /64 base+64. Clamped to max.
func rulePriority(p netip.Prefix, base, maxPrio int) uint32 {
	return uint32(min(base+p.Addr().BitLen()-p.Bits(), maxPrio))
}

// rtTables is what the iproute2 table-name files say: id by name and name
// by id, plus which file each line came from.
type rtTables struct {
	byName map[string]int
	byID   map[int]string
	from   map[string]string // name -> file
}

// readRTTables reads dir/rt_tables and dir/rt_tables.d/*.conf (missing
// files are fine). The first line naming a table wins, as in iproute2.
func readRTTables(dir string) (*rtTables, error) {
	t := &rtTables{byName: map[string]int{}, byID: map[int]string{}, from: map[string]string{}}
	files := []string{filepath.Join(dir, "rt_tables")}
	more, _ := filepath.Glob(filepath.Join(dir, "rt_tables.d", "*.conf"))
	sort.Strings(more)
	files = append(files, more...)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f, err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if i := strings.IndexByte(line, '#'); i >= 0 {
				line = strings.TrimSpace(line[:i])
			}
			fields := strings.Fields(line)
			if len(fields) < 2 {
				continue
			}
			id, err := strconv.ParseUint(fields[0], 0, 32)
			if err != nil {
				continue
			}
			name := fields[1]
			if _, ok := t.byName[name]; !ok {
				t.byName[name] = int(id)
				t.from[name] = f
			}
			if _, ok := t.byID[int(id)]; !ok {
				t.byID[int(id)] = name
			}
		}
	}
	return t, nil
}

// ownFile is the file ovnbgp writes its table names to.
func ownFile(dir string) string { return filepath.Join(dir, "rt_tables.d", "ovnbgp.conf") }

// readOwnTables returns the table ids named in ovnbgp's own file.
func readOwnTables(dir string) map[uint32]bool {
	out := map[uint32]bool{}
	data, err := os.ReadFile(ownFile(dir))
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && !strings.HasPrefix(f[0], "#") {
			if id, err := strconv.ParseUint(f[0], 0, 32); err == nil {
				out[uint32(id)] = true
			}
		}
	}
	return out
}

// writeOwnTables writes ovnbgp.conf with one line per (id, name) when its
// content changes (atomically).
func writeOwnTables(dir string, names map[int]string) error {
	ids := make([]int, 0, len(names))
	for id := range names {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	var b strings.Builder
	b.WriteString("# Written by ovnbgp: routing tables of the provider bridges (bridge_table_base + index in ovn-bridge-mappings).\n")
	for _, id := range ids {
		fmt.Fprintf(&b, "%d\t%s\n", id, names[id])
	}
	path := ownFile(dir)
	if old, err := os.ReadFile(path); err == nil && string(old) == b.String() {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return nil
}
