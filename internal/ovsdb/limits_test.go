package ovsdb_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
	"github.com/ovnbgp/ovnbgp/test/ovsdbserver"
)

// TestMessageLimitDropsTheConnection: a message over MaxMessageBytes
// drops the connection with ErrLimit and the metric; the last rows are
// served meanwhile with no delete, the download that holds the large row
// is refused on every retry, and the client is back once it is gone.
func TestMessageLimitDropsTheConnection(t *testing.T) {
	s := ovsdbserver.Start(t, ovsdbserver.Options{Schema: ovsdbserver.SBSchema})
	dp := sbFixture(t, s)
	addPB(t, s, dp, "lp1", 1)
	rec := &recorder{}
	c := connectOpts(t, rec, ovsdb.Options{Remote: s.Remote(), MaxBackoff: 200 * time.Millisecond, MaxMessageBytes: 64 << 10})
	require.Equal(t, 1, c.Count(sbdb.PortBindingTable))
	before := ovsdb.LimitExceeded("OVN_Southbound", "message")

	big := addPB(t, s, dp, "big", 2, `external_ids:blob="`+strings.Repeat("x", 100<<10)+`"`)
	waitFor(t, "the limit", func() bool { return ovsdb.LimitExceeded("OVN_Southbound", "message") > before+1 })
	require.Equal(t, 1, c.Count(sbdb.PortBindingTable), "the last rows are served")
	require.Equal(t, 1, rec.resyncCount(), "no new generation with the large row")
	rec.mu.Lock()
	for _, e := range rec.events {
		require.NotEqual(t, ovsdb.OpDelete, e.Op)
	}
	rec.mu.Unlock()

	s.Ctl("ovn-sbctl", "destroy", "Port_Binding", big)
	waitFor(t, "the reconnect", func() bool { return rec.resyncCount() == 2 })
	require.Equal(t, 1, c.Count(sbdb.PortBindingTable))
}
