// Package upstream holds the tests that run upstream ovn-bgp-agent's own
// code beside ovnbgp's, in the QEMU lab's trixie-upstream guest (Debian 13
// with ovn-bgp-agent 4.0.0): `make bench-upstream`. They are built only
// with the tags vmlab and upstream, so `make test` and `make test-vm` do not
// compile them.
package upstream
