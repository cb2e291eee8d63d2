package sbevpn

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseKeys(t *testing.T) {
	for _, tc := range []struct {
		ids  map[string]string
		want Keys
		err  string // "" = valid; "none" = errNotEVPN
	}{
		{map[string]string{}, Keys{}, "none"},
		{map[string]string{"neutron:cidrs": "10.0.0.5/24"}, Keys{}, "none"},
		{map[string]string{KeyVNI: "100", KeyAS: "64999"}, Keys{100, 64999}, ""},
		{map[string]string{KeyVNI: " 16777215 ", KeyAS: "4294967295"}, Keys{16777215, 4294967295}, ""},
		{map[string]string{KeyVNI: "1", KeyAS: "1.0"}, Keys{1, 65536}, ""},
		{map[string]string{KeyVNI: "0", KeyAS: "1"}, Keys{}, "not a VNI"},
		{map[string]string{KeyVNI: "16777216", KeyAS: "1"}, Keys{}, "not a VNI"},
		{map[string]string{KeyVNI: "-1", KeyAS: "1"}, Keys{}, "not a VNI"},
		{map[string]string{KeyVNI: "0x10", KeyAS: "1"}, Keys{}, "not a VNI"},
		{map[string]string{KeyVNI: "100", KeyAS: "0"}, Keys{}, "not an AS"},
		{map[string]string{KeyVNI: "100", KeyAS: "4294967296"}, Keys{}, "not an AS"},
		{map[string]string{KeyVNI: "100", KeyAS: "AS64999"}, Keys{}, "not an AS"},
		{map[string]string{KeyVNI: "100", KeyAS: "0.0"}, Keys{}, "not an AS"},
		{map[string]string{KeyVNI: "100", KeyAS: "65536.1"}, Keys{}, "not an AS"},
		{map[string]string{KeyVNI: "100"}, Keys{}, "without neutron_bgpvpn:as"},
		{map[string]string{KeyAS: "64999"}, Keys{}, "without neutron_bgpvpn:vni"},
	} {
		got, err := ParseKeys(tc.ids)
		switch tc.err {
		case "":
			require.NoError(t, err, tc.ids)
			assert.Equal(t, tc.want, got, tc.ids)
		case "none":
			assert.True(t, errors.Is(err, errNotEVPN), "%v: %v", tc.ids, err)
		default:
			require.Error(t, err, tc.ids)
			assert.Contains(t, err.Error(), tc.err, tc.ids)
		}
	}
}

// FuzzParseKeys: never panics; a valid result is in range.
func FuzzParseKeys(f *testing.F) {
	for _, s := range [][2]string{{"100", "64999"}, {"16777216", "1"}, {"1", "1.10"}, {"", ""}, {"x", "."}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, vni, as string) {
		k, err := ParseKeys(map[string]string{KeyVNI: vni, KeyAS: as})
		if err == nil && (k.VNI < 1 || k.VNI > 1<<24-1 || k.AS == 0) {
			t.Fatalf("%q %q: %+v", vni, as, k)
		}
	})
}
