// Package evpn holds the end-to-end proofs of EVPN type-5 (a VRF per VNI)
// in the full-kernel QEMU lab (build tag vmlab: VRF devices need the
// Debian kernel): exposing_method = vrf (TestVMEVPNTwoTenants) and the
// southbound driver ovn_evpn_driver (TestVMEVPNSouthbound).
// scripts/test-vm.sh builds the agent as bin/ovnbgp-vmlab before it boots
// the guests.
package evpn
