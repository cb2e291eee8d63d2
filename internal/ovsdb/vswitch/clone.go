package vswitch

// Code below makes every model a model.CloneableModel so that libovsdb clones
// rows with a typed deep copy instead of a JSON round trip.

import (
	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/modelcopy"
)

// CloneModel implements model.CloneableModel.
func (r *OpenVSwitch) CloneModel() model.Model { return modelcopy.New(r) }

// CloneModelInto implements model.CloneableModel.
func (r *OpenVSwitch) CloneModelInto(m model.Model) { modelcopy.Into(m, r) }

// CloneModel implements model.CloneableModel.
func (r *Bridge) CloneModel() model.Model { return modelcopy.New(r) }

// CloneModelInto implements model.CloneableModel.
func (r *Bridge) CloneModelInto(m model.Model) { modelcopy.Into(m, r) }

// CloneModel implements model.CloneableModel.
func (r *Port) CloneModel() model.Model { return modelcopy.New(r) }

// CloneModelInto implements model.CloneableModel.
func (r *Port) CloneModelInto(m model.Model) { modelcopy.Into(m, r) }

// CloneModel implements model.CloneableModel.
func (r *Interface) CloneModel() model.Model { return modelcopy.New(r) }

// CloneModelInto implements model.CloneableModel.
func (r *Interface) CloneModelInto(m model.Model) { modelcopy.Into(m, r) }
