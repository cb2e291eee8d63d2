// Package dynlab holds the full-kernel lab tests of exposing_method =
// dynamic (OVN native dynamic routing, OVN 25.03 and later): they need the
// vrf module and run in the QEMU lab (`vmlab` build tag, make test-vm).
package dynlab
