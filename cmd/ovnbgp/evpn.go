package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"

	"github.com/ovnbgp/ovnbgp/internal/config"
)

// resolveEVPNLocalIP sets evpn_local_ip from evpn_nic's first global IPv4
// address when only evpn_nic is set (driver = ovn_evpn_driver), so that
// the VXLAN devices and the route distinguishers <ip>:<vni> use it
// (upstream renders "None:<vni>" there). A NIC without one is logged and
// the RDs are left to FRR.
func resolveEVPNLocalIP(cfg *config.Config, log *slog.Logger) {
	if cfg.Driver != config.DriverEVPN || cfg.EVPNLocalIP != "" || cfg.EVPNNic == "" {
		return
	}
	ip, err := nicIPv4(cfg.EVPNNic)
	if err != nil {
		log.Warn("evpn_nic: no local IP for the VXLAN devices and route distinguishers; FRR derives the RDs", "evpn_nic", cfg.EVPNNic, "error", err)
		return
	}
	log.Info("evpn_local_ip taken from evpn_nic", "evpn_nic", cfg.EVPNNic, "evpn_local_ip", ip)
	cfg.EVPNLocalIP = ip
}

// nicIPv4 is the first global unicast IPv4 address of interface name.
func nicIPv4(name string) (string, error) {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return "", err
	}
	addrs, err := ifc.Addrs()
	if err != nil {
		return "", err
	}
	return firstGlobalIPv4(addrs)
}

func firstGlobalIPv4(addrs []net.Addr) (string, error) {
	for _, a := range addrs {
		p, err := netip.ParsePrefix(a.String())
		if err != nil {
			continue
		}
		if ip := p.Addr(); ip.Is4() && ip.IsGlobalUnicast() {
			return ip.String(), nil
		}
	}
	return "", fmt.Errorf("no global IPv4 address")
}
