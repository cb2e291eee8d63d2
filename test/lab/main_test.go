package lab_test

import (
	"testing"

	"github.com/ovnbgp/ovnbgp/test/lab"
)

// The package's tests share one real neutron-server (lab.SharedNeutron),
// stopped when they are done.
func TestMain(m *testing.M) { lab.NeutronMain(m) }
