package config

import (
	"fmt"
	"strings"
)

// Validate checks every option's value and the rules between options. It
// returns the first problem as an *InvalidError (exit status 2), nil when
// the configuration is usable by ovnbgp. Default() validates.
func (c *Config) Validate() error {
	for i := range options {
		o := &options[i]
		if o.check == nil {
			continue
		}
		if err := o.check(c); err != nil {
			return o.invalid(o.get(c), "", err.Error())
		}
	}
	return c.validateCross()
}

// supportedDrivers are the upstream drivers ovnbgp implements.
var supportedDrivers = []string{DriverSB, DriverNB, DriverEVPN}

func (c *Config) validateCross() error {
	bad := func(section, name, reason string) error {
		o := optionIndex[optKey{section, name}]
		return o.invalid(o.get(c), "", reason)
	}
	D, O, B := SectionDefault, SectionOVN, SectionOVNBGP

	switch c.Driver {
	case DriverSB, DriverNB:
	case DriverEVPN:
		if err := c.validateEVPNDriver(bad); err != nil {
			return err
		}
	case DriverStretched:
		return bad(D, "driver", "the stretched L2 driver is not supported by ovnbgp yet; use "+strings.Join(supportedDrivers, " or "))
	}
	switch c.ExposingMethod {
	case ExposingUnderlay:
	case ExposingVRF:
		if err := c.validateVRFMethod(bad); err != nil {
			return err
		}
	case ExposingDynamic:
		// OVN (>= 25.03) writes the routes into a Linux VRF itself; ovnbgp
		// configures FRR around them (redistribute kernel in the VRF), which
		// the embedded GoBGP cannot do.
		if c.OVNBGP.Speaker != SpeakerFRR {
			return bad(B, "speaker", "exposing_method = dynamic needs speaker = frr: OVN writes the routes into a Linux VRF and FRR redistributes them from there")
		}
	case ExposingL2VNI:
		return bad(D, "exposing_method", "not implemented by ovnbgp (nor by upstream ovn-bgp-agent); use underlay, vrf or dynamic")
	default:
		return bad(D, "exposing_method", "not supported by ovnbgp yet; use underlay, vrf or dynamic")
	}

	if c.OVNBGP.RulePriority >= c.OVNBGP.RulePriorityMax {
		return bad(B, "rule_priority", fmt.Sprintf("must be lower than rule_priority_max (%d)", c.OVNBGP.RulePriorityMax))
	}

	// Routing tables: the bridge tables must not hit the reserved ones nor
	// the tables of other options (upstream bug: a bridge table equal to
	// bgp_vrf_table_id).
	lo, hi := c.OVNBGP.BridgeTableBase, c.OVNBGP.BridgeTableBase+MaxBridges
	if lo <= 255 && hi >= 253 {
		return bad(B, "bridge_table_base", fmt.Sprintf("bridge tables %d..%d (room for %d bridges) would include the reserved tables 253-255", lo, hi, MaxBridges))
	}
	if t := c.BGPVRFTableID; t >= lo && t <= hi {
		return bad(D, "bgp_vrf_table_id", fmt.Sprintf("collides with the bridge tables bridge_table_base..+%d (%d..%d)", MaxBridges, lo, hi))
	}
	if t := c.OVNBGP.AnnounceTableID; t != 0 && t >= lo && t <= hi {
		return bad(B, "announce_table_id", fmt.Sprintf("collides with the bridge tables bridge_table_base..+%d (%d..%d)", MaxBridges, lo, hi))
	}
	if c.OVNBGP.AnnounceMethod == AnnounceTable && c.OVNBGP.Speaker == SpeakerFRR {
		if t := c.AnnounceTable(); t > 252 {
			name := "announce_table_id"
			if c.OVNBGP.AnnounceTableID == 0 {
				name = "bgp_vrf_table_id"
			}
			sec := B
			if name == "bgp_vrf_table_id" {
				sec = D
			}
			return bad(sec, name, fmt.Sprintf("announce_method=table imports table %d into FRR, and FRR's ip import-table takes 1-252", t))
		}
	}

	// SSL remotes need key, certificate and CA.
	for _, tls := range []struct {
		conn             string
		key, cert, ca    string
		keyN, certN, caN string
	}{
		{c.OVN.SBConnection, c.OVN.SBPrivateKey, c.OVN.SBCertificate, c.OVN.SBCACert, "ovn_sb_private_key", "ovn_sb_certificate", "ovn_sb_ca_cert"},
		{c.OVN.NBConnection, c.OVN.NBPrivateKey, c.OVN.NBCertificate, c.OVN.NBCACert, "ovn_nb_private_key", "ovn_nb_certificate", "ovn_nb_ca_cert"},
	} {
		if !strings.Contains(tls.conn, "ssl:") {
			continue
		}
		for _, f := range [][2]string{{tls.keyN, tls.key}, {tls.certN, tls.cert}, {tls.caN, tls.ca}} {
			if f[1] == "" {
				return bad(O, f[0], "must be set: the connection uses ssl:")
			}
		}
	}
	return nil
}

// validateEVPNDriver checks driver = ovn_evpn_driver (the southbound
// EVPN driver: a VRF per VNI of a router gateway port): a local address
// for the VXLAN devices and the route distinguishers, from evpn_local_ip
// or else evpn_nic's; FRR (GoBGP has no EVPN); the underlay method only
// (exposing_method is the northbound driver's).
func (c *Config) validateEVPNDriver(bad func(section, name, reason string) error) error {
	D, B := SectionDefault, SectionOVNBGP
	if c.EVPNLocalIP == "" && c.EVPNNic == "" {
		return bad(D, "evpn_local_ip", "must be set with driver = "+DriverEVPN+" (or evpn_nic, whose IPv4 address is then used): it is the VXLAN source address and the default route distinguisher <local ip>:<vni>")
	}
	if c.OVNBGP.Speaker == SpeakerGoBGP {
		return bad(B, "speaker", "driver = "+DriverEVPN+" (EVPN type-5) needs FRR: the embedded GoBGP speaker does not announce EVPN routes")
	}
	if c.EVPNUDPDstPort == 0 {
		return bad(D, "evpn_udp_dstport", "must be a UDP port 1..65535 with driver = "+DriverEVPN)
	}
	if c.ExposingMethod != ExposingUnderlay {
		return bad(D, "exposing_method", "the EVPN driver ("+DriverEVPN+") announces in its own VRFs; exposing_method must stay underlay")
	}
	return nil
}

// validateVRFMethod checks exposing_method = vrf (EVPN type-5, a VRF per
// VNI): upstream's rules (northbound driver only, evpn_local_ip required)
// and what ovnbgp cannot do with it (the embedded GoBGP speaker has no
// EVPN: one clear refusal rather than a silent half).
func (c *Config) validateVRFMethod(bad func(section, name, reason string) error) error {
	D, B := SectionDefault, SectionOVNBGP
	if c.Driver != DriverNB {
		return bad(D, "exposing_method", "vrf is a method of the northbound driver only (driver = "+DriverNB+"), as upstream")
	}
	if c.EVPNLocalIP == "" {
		return bad(D, "evpn_local_ip", "must be set with exposing_method = vrf: it is the VXLAN source address and the default route distinguisher <evpn_local_ip>:<vni>")
	}
	if c.OVNBGP.Speaker == SpeakerGoBGP {
		return bad(B, "speaker", "exposing_method = vrf (EVPN type-5) needs FRR: the embedded GoBGP speaker does not announce EVPN routes")
	}
	if c.EVPNUDPDstPort == 0 {
		return bad(D, "evpn_udp_dstport", "must be a UDP port 1..65535 with exposing_method = vrf")
	}
	return nil
}
