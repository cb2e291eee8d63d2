package config

import (
	"fmt"
	"strings"
)

// SplitRemotes lists the members of an OVSDB remote list
// ("tcp:A:6642, ssl:B:6642"), trimmed, without empty ones.
func SplitRemotes(remote string) []string {
	var out []string
	for _, r := range strings.Split(remote, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

// PlainTCPRemotes returns the members of an OVSDB remote list
// ("tcp:A:6642,ssl:B:6642") that are plain tcp: (unencrypted and
// unauthenticated: whoever is on the path reads and forges the rows the
// agent announces from).
func PlainTCPRemotes(remote string) []string {
	var out []string
	for _, r := range SplitRemotes(remote) {
		if strings.HasPrefix(r, "tcp:") {
			out = append(out, r)
		}
	}
	return out
}

// PlainTCPWarning is the warning for one plain tcp: remote; from names
// where it was set (an option, or OVS external_ids:ovn-remote).
func PlainTCPWarning(remote, from string) string {
	return fmt.Sprintf("OVSDB remote %s (%s) is plain TCP, unencrypted and unauthenticated: ssl: is advised", remote, from)
}

// TCPWarnings has one warning per plain tcp: remote of the configured
// OVSDB connections (the agent logs them at start; Load does not, so that
// `ovnbgp plan` and the reload report stay quiet).
func TCPWarnings(c *Config) []string {
	var out []string
	seen := map[string]bool{}
	for _, o := range []struct{ value, from string }{
		{c.OVSDBConnection, "ovsdb_connection in [DEFAULT]"},
		{c.OVN.SBConnection, "ovn_sb_connection in [ovn]"},
		{c.OVN.NBConnection, "ovn_nb_connection in [ovn]"},
		{c.LocalOVNCluster.NBConnection, "ovn_nb_connection in [local_ovn_cluster]"},
	} {
		for _, r := range PlainTCPRemotes(o.value) {
			if !seen[r] {
				seen[r] = true
				out = append(out, PlainTCPWarning(r, o.from))
			}
		}
	}
	return out
}
