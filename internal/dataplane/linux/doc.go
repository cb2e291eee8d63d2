// Package linux is the kernel half of ovnbgp's dataplane: it makes the
// network stack of one chassis deliver the traffic of the prefixes the
// chassis announces, through netlink only (no process is forked; sysctls
// are written to /proc/sys in the right network namespace).
//
// # What it writes
//
// Per provider bridge (plan.BridgeWiring): a routing table, named in
// /etc/iproute2/rt_tables.d/ovnbgp.conf; a default route (IPv4 and IPv6)
// through the bridge in that table; upstream's link addresses (of the
// release Options.LinkAddresses names: 4.0's 169.254.<i/256>.<i%256>/32
// and fd53:d91e:400:7f17::<i>/128, or 5.0's 169.254.<i>.<i>/32 and
// fd53:d91e:400:7f17::<i>:<i>/128; see LinkAddresses) on the bridge and on
// each VLAN device; VLAN devices named
// by VLANDeviceName; proxy_arp=1, proxy_delay=0 and proxy_ndp=1 on each of
// those devices; ip_forward and IPv6 forwarding on.
//
// Rules steer inbound traffic into the bridge tables, in one of two modes
// (Options.RuleMode). RulePerTable (the default): one rule per bridge table
// and family, `lookup <table> suppress_prefixlength 0 pref rule_priority +
// index`; a destination with a route in the table (an exposure) uses it,
// anything else falls through, and the table's default route never matches.
// RulePerPrefix (upstream's layout): one rule per exposure, `to <prefix>
// lookup <bridge table>` with priority rule_priority + (address bits -
// prefix length), so that rules implement longest-prefix match across
// bridges. The kernel walks rules linearly for every packet and inserts N
// rules of one priority in O(N²): 10,000 per-prefix rules cost about 1 s of
// kernel time to insert (3 s with duplicate checks) and a 10,000-entry walk
// per forwarded packet, which is why the table mode is the default. The
// table mode resolves overlapping prefixes on different bridges by bridge
// order, and makes every route in a bridge table live (also a foreign one).
//
// Per exposure (plan.Exposure): the rule of the per-prefix mode; a route `<prefix>
// dev <bridge or VLAN device> [via <Via>] table <bridge table> proto
// <route_protocol>`; a permanent neighbour when MAC is set; an NDP proxy
// entry per ProxyNDP address; and, when Announce is set, the announce
// object: with the connected method the prefix as an address on bgp_nic
// (a dummy in the bgp_vrf VRF, created when missing), with the table method
// the same route in announce_table_id (no VRF or dummy needed), with none
// nothing.
//
// # Ownership and adoption
//
// The reconciler only changes objects it owns:
//
//   - rules of the two shapes ovnbgp writes (destination only, or the
//     table mode's suppress_prefixlength 0) that jump to a bridge table,
//     with a priority in [rule_priority, rule_priority_max]. Bridge tables
//     are the tables of the current bridges (adopted ones included) and
//     every table named in ovnbgp.conf.
//   - routes of protocol route_protocol in a bridge table or in the
//     announce table; in the table of a current bridge also upstream's
//     `proto boot` routes of the shapes upstream writes, out of that
//     bridge's own devices: `default dev <bridge>`, `<ip>/32|128 dev
//     <device>`, `<net> via <gateway> dev <device>` (adopted: replaced in
//     place by ours when needed, removed by Unwire when not).
//   - permanent neighbours and NDP proxy entries on provider devices (the
//     bridges and their VLAN devices) that carry ovnbgp's marker,
//     NDA_PROTOCOL = route_protocol, which ovnbgp writes on every entry.
//   - with the connected method, every address on bgp_nic except IPv6
//     link-local ones; on provider devices, the link addresses
//     (169.254.0.0/16 /32s and fd53:d91e:400:7f17::/64 /128s).
//   - VLAN devices on a provider bridge whose name is VLANDeviceName of
//     that bridge and tag. A device with that name that is not a VLAN
//     device (an OVS internal port, for instance) is used as the VLAN
//     device but never deleted.
//
// Adoption of upstream's leftovers (a host migrated from openstack/
// ovn-bgp-agent converges without flaps): a line in /etc/iproute2/
// rt_tables (or rt_tables.d) that names a provider bridge fixes that
// bridge's table, whatever its number; ovnbgp then does not write it into
// ovnbgp.conf. Upstream's rules in such a table (the kernel's priorities,
// outside ovnbgp's range) are not ovnbgp's and stay (docs/operations.md
// says how to remove them); upstream's neighbours carry no marker and stay,
// unless ovnbgp plans their address, when its entry replaces them.
// Addresses already on bgp_nic are kept when wanted and removed by Unwire
// when not; upstream's `proto boot` routes are replaced in place. Nothing
// is flushed at start.
//
// # Reconciling
//
// The reconciler keeps an index of the owned objects in the kernel, built
// by one dump per object type on each full Wire and kept current by its own
// writes and by the notifications Run receives; the desired objects are
// reference-counted by exposure. WireDelta and UnwireDelta touch only the
// keys of the delta and send only the difference, in batches of netlink
// messages (one sendto per ~32 KiB of requests). Wire adds and never
// removes; Unwire removes; announce objects are written last and removed
// first, and an exposure whose wiring failed is not announced. An error on
// one exposure (a missing device, a bad MAC) does not stop the others: the
// error is aggregated, counted by cause, and the exposure is retried by the
// next pass.
//
// Run subscribes to the rtnetlink groups of links, addresses, routes, rules
// and neighbours. An owned object deleted or changed behind ovnbgp's back
// is restored as soon as its notification is read (measured: 0.2-6 ms for
// rules, routes, neighbours and addresses). The kernel sends no
// notification for NDP proxy entries, so Run re-reads them every 400 ms
// while any is desired. A provider device, bgp_nic or bgp_vrf that is
// deleted, re-created or set down, or a notification overrun, triggers a
// full re-read and re-wire (IPv4 routes vanish with their device without a
// notification).
//
// # Measured (2 cores shared with other work, in a network namespace)
//
//	go test -run '^$' -bench . -benchtime 3x ./internal/dataplane/linux/
//
// Wiring 10,000 exposures from empty (table announce method: route +
// announce route each, a neighbour for one in ten): 0.29-0.43 s, 21,012
// netlink requests in 88 system calls with the table rule mode; 1.1-3.1 s,
// 31,010 requests in 126 calls with per-prefix rules (the kernel's rule
// insertion). One change on top of 10,000 (WireDelta or UnwireDelta of one
// exposure): 30-72 µs, 3 requests in 3 calls, with the table rule mode;
// 0.3-0.87 ms with per-prefix rules. A full Wire of 10,000 unchanged
// exposures (the periodic pass): about 0.19 s, 6 dump requests, no write.
package linux
