package e2e

import (
	"testing"

	"github.com/ovnbgp/ovnbgp/test/lab"
)

// The Neutron-built scenarios share one real neutron-server
// (lab.SharedNeutron), stopped when the package's tests are done.
func TestMain(m *testing.M) { lab.NeutronMain(m) }
