package config

import (
	"slices"
	"testing"
)

func TestPlainTCPRemoteWarnings(t *testing.T) {
	for _, tc := range []struct {
		name, conf string
		want       []string
	}{
		{"unix and ssl", "[ovn]\novn_sb_connection = ssl:10.0.0.1:6642,ssl:10.0.0.2:6642\n", nil},
		{"one tcp of a list", "[ovn]\novn_sb_connection = ssl:10.0.0.1:6642, tcp:10.0.0.2:6642\n", []string{
			"OVSDB remote tcp:10.0.0.2:6642 (ovn_sb_connection in [ovn]) is plain TCP, unencrypted and unauthenticated: ssl: is advised",
		}},
		{"each remote once", "[DEFAULT]\novsdb_connection = tcp:127.0.0.1:6640\n[ovn]\novn_sb_connection = tcp:10.0.0.1:6642,tcp:10.0.0.3:6642\novn_nb_connection = tcp:10.0.0.1:6642\n", []string{
			"OVSDB remote tcp:127.0.0.1:6640 (ovsdb_connection in [DEFAULT]) is plain TCP, unencrypted and unauthenticated: ssl: is advised",
			"OVSDB remote tcp:10.0.0.1:6642 (ovn_sb_connection in [ovn]) is plain TCP, unencrypted and unauthenticated: ssl: is advised",
			"OVSDB remote tcp:10.0.0.3:6642 (ovn_sb_connection in [ovn]) is plain TCP, unencrypted and unauthenticated: ssl: is advised",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := LoadBytes("t.conf", []byte(tc.conf))
			if err != nil {
				t.Fatal(err)
			}
			if warnings := TCPWarnings(c); !slices.Equal(warnings, tc.want) {
				t.Errorf("warnings %q, want %q", warnings, tc.want)
			}
		})
	}
	if got := PlainTCPRemotes(" tcp:a:1 ,unix:/x,ssl:b:2,tcp:c:3"); !slices.Equal(got, []string{"tcp:a:1", "tcp:c:3"}) {
		t.Errorf("PlainTCPRemotes = %q", got)
	}
}
