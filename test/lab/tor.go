package lab

import "fmt"

// ToRUnnumbered is the FRR configuration of a ToR with one BGP unnumbered
// peer on iface (any AS) that sends it a default route.
func ToRUnnumbered(as int, routerID, iface string) string {
	return fmt.Sprintf(`hostname tor
router bgp %d
 bgp router-id %s
 no bgp ebgp-requires-policy
 neighbor %s interface remote-as external
 address-family ipv4 unicast
  neighbor %s default-originate
 exit-address-family
exit
`, as, routerID, iface, iface)
}
