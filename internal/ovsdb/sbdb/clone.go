package sbdb

// Code below makes every model a model.CloneableModel so that libovsdb clones
// rows with a typed deep copy instead of a JSON round trip.

import (
	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/modelcopy"
)

// CloneModel implements model.CloneableModel.
func (r *PortBinding) CloneModel() model.Model { return modelcopy.New(r) }

// CloneModelInto implements model.CloneableModel.
func (r *PortBinding) CloneModelInto(m model.Model) { modelcopy.Into(m, r) }

// CloneModel implements model.CloneableModel.
func (r *Chassis) CloneModel() model.Model { return modelcopy.New(r) }

// CloneModelInto implements model.CloneableModel.
func (r *Chassis) CloneModelInto(m model.Model) { modelcopy.Into(m, r) }

// CloneModel implements model.CloneableModel.
func (r *ChassisPrivate) CloneModel() model.Model { return modelcopy.New(r) }

// CloneModelInto implements model.CloneableModel.
func (r *ChassisPrivate) CloneModelInto(m model.Model) { modelcopy.Into(m, r) }

// CloneModel implements model.CloneableModel.
func (r *DatapathBinding) CloneModel() model.Model { return modelcopy.New(r) }

// CloneModelInto implements model.CloneableModel.
func (r *DatapathBinding) CloneModelInto(m model.Model) { modelcopy.Into(m, r) }

// CloneModel implements model.CloneableModel.
func (r *LoadBalancer) CloneModel() model.Model { return modelcopy.New(r) }

// CloneModelInto implements model.CloneableModel.
func (r *LoadBalancer) CloneModelInto(m model.Model) { modelcopy.Into(m, r) }

// CloneModel implements model.CloneableModel.
func (r *LogicalDPGroup) CloneModel() model.Model { return modelcopy.New(r) }

// CloneModelInto implements model.CloneableModel.
func (r *LogicalDPGroup) CloneModelInto(m model.Model) { modelcopy.Into(m, r) }
