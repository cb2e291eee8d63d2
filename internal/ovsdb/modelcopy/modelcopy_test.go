package modelcopy_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/modelcopy"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
)

func TestDeepCopyIsIndependent(t *testing.T) {
	ch, up, tag := "c1", true, 5
	src := &sbdb.PortBinding{UUID: "u", LogicalPort: "lp", Chassis: &ch, Up: &up, Tag: &tag,
		MAC: []string{"fa:16:3e:00:00:01 10.0.0.1"}, ExternalIDs: map[string]string{"k": "v"}}
	dst := modelcopy.New(src)
	require.Equal(t, src, dst)
	*dst.Chassis = "c2"
	dst.MAC[0] = "x"
	dst.ExternalIDs["k"] = "w"
	require.Equal(t, "c1", *src.Chassis)
	require.Equal(t, "fa:16:3e:00:00:01 10.0.0.1", src.MAC[0])
	require.Equal(t, "v", src.ExternalIDs["k"])

	var into sbdb.PortBinding
	modelcopy.Into(&into, src)
	require.Equal(t, *src, into)
	require.Nil(t, modelcopy.New(&sbdb.PortBinding{}).MAC, "nil stays nil")
}
