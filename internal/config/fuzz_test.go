package config

import (
	"errors"
	"os"
	"testing"
)

// FuzzLoadBytes: arbitrary file content never panics; it gives either a
// valid Config or an *InvalidError / *FileError, both with exit status 2.
func FuzzLoadBytes(f *testing.F) {
	for _, p := range []string{"testdata/devstack/bgp-agent.conf", "testdata/operator.conf", "testdata/confdir/10-base.conf"} {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		"", "[DEFAULT]\nbgp_AS = 1.10\n", "[ovnbgp]\npeers = 192.0.2.1:65000, 2001:db8::1:external, eth1:external\n",
		"[", "[]", "=", "a", "[DEFAULT]\na=\"\"\"x\n", "[DEFAULT]\nx = `y\n", "k = \"v\n  w\n",
		"[ovnbgp]\nrule_priority = 1999\n", "[DEFAULT]\naddress_scopes = a,\n  b\n\tc\n",
		"\xef\xbb\xbf[DEFAULT]\r\nbgp_AS=1\r\n", "[a.b]\nc=d\n[DEFAULT.x]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, _, err := LoadBytes("fuzz.conf", data)
		if err != nil {
			if c != nil {
				t.Fatalf("both a config and an error: %v", err)
			}
			var ie *InvalidError
			var fe *FileError
			if !errors.As(err, &ie) && !errors.As(err, &fe) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			if err.(interface{ ExitCode() int }).ExitCode() != 2 {
				t.Fatalf("exit code of %v", err)
			}
			return
		}
		if c == nil {
			t.Fatal("no config and no error")
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("loaded config does not validate: %v", err)
		}
		if d := c.Diff(c.Clone()); len(d) != 0 {
			t.Fatalf("diff of a clone: %v", d)
		}
	})
}

// FuzzParsePeer: never panics; an accepted peer formats to a string that
// parses back to the same peer.
func FuzzParsePeer(f *testing.F) {
	for _, s := range []string{"192.0.2.1:65000", "2001:db8::1:external", "eth1:external", "[2001:db8::1]:1.10", "::1:2", "fe80::1%eth1", "[", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePeer(s)
		if err != nil {
			return
		}
		back, err := ParsePeer(p.String())
		if err != nil {
			t.Fatalf("%q -> %q does not parse: %v", s, p.String(), err)
		}
		if back != p {
			t.Fatalf("%q -> %+v -> %q -> %+v", s, p, p.String(), back)
		}
		if err := checkPeers([]Peer{p}); err != nil {
			t.Fatalf("%q accepted but does not validate: %v", s, err)
		}
	})
}
