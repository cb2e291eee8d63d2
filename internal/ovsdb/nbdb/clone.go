package nbdb

// Code below makes every model a model.CloneableModel so that libovsdb clones
// rows with a typed deep copy instead of a JSON round trip.

import (
	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/modelcopy"
)

// CloneModel implements model.CloneableModel.
func (r *LogicalSwitch) CloneModel() model.Model { return modelcopy.New(r) }

// CloneModelInto implements model.CloneableModel.
func (r *LogicalSwitch) CloneModelInto(m model.Model) { modelcopy.Into(m, r) }

// CloneModel implements model.CloneableModel.
func (r *LogicalSwitchPort) CloneModel() model.Model { return modelcopy.New(r) }

// CloneModelInto implements model.CloneableModel.
func (r *LogicalSwitchPort) CloneModelInto(m model.Model) { modelcopy.Into(m, r) }

// CloneModel implements model.CloneableModel.
func (r *LogicalRouter) CloneModel() model.Model { return modelcopy.New(r) }

// CloneModelInto implements model.CloneableModel.
func (r *LogicalRouter) CloneModelInto(m model.Model) { modelcopy.Into(m, r) }

// CloneModel implements model.CloneableModel.
func (r *LogicalRouterPort) CloneModel() model.Model { return modelcopy.New(r) }

// CloneModelInto implements model.CloneableModel.
func (r *LogicalRouterPort) CloneModelInto(m model.Model) { modelcopy.Into(m, r) }

// CloneModel implements model.CloneableModel.
func (r *NAT) CloneModel() model.Model { return modelcopy.New(r) }

// CloneModelInto implements model.CloneableModel.
func (r *NAT) CloneModelInto(m model.Model) { modelcopy.Into(m, r) }

// CloneModel implements model.CloneableModel.
func (r *LoadBalancer) CloneModel() model.Model { return modelcopy.New(r) }

// CloneModelInto implements model.CloneableModel.
func (r *LoadBalancer) CloneModelInto(m model.Model) { modelcopy.Into(m, r) }

// CloneModel implements model.CloneableModel.
func (r *NBGlobal) CloneModel() model.Model { return modelcopy.New(r) }

// CloneModelInto implements model.CloneableModel.
func (r *NBGlobal) CloneModelInto(m model.Model) { modelcopy.Into(m, r) }
