// Package evpn holds the end-to-end proof of exposing_method = vrf (EVPN
// type-5, a VRF per VNI) in the full-kernel QEMU lab (build tag vmlab:
// VRF devices need the Debian kernel). scripts/test-vm.sh builds the agent
// as bin/ovnbgp-vmlab before it boots the guests.
package evpn
