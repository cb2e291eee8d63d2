package sbdb

// Code below makes every model a model.CloneableModel so that libovsdb clones
// rows with a typed deep copy instead of a JSON round trip.

import (
	"slices"

	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb/modelcopy"
)

// CloneModel implements model.CloneableModel. Port_Binding is the table of
// bursts (libovsdb copies a row three times per update), so it has a
// hand-written copy, about three times faster than modelcopy's reflection;
// TestPortBindingClone fails when a field is added and not deep-copied here.
func (r *PortBinding) CloneModel() model.Model {
	c := new(PortBinding)
	r.copyInto(c)
	return c
}

// CloneModelInto implements model.CloneableModel.
func (r *PortBinding) CloneModelInto(m model.Model) { r.copyInto(m.(*PortBinding)) }

func (r *PortBinding) copyInto(c *PortBinding) {
	*c = *r
	c.Chassis = clonePtr(r.Chassis)
	c.AdditionalChassis = slices.Clone(r.AdditionalChassis)
	c.RequestedChassis = clonePtr(r.RequestedChassis)
	c.Up = clonePtr(r.Up)
	c.MAC = slices.Clone(r.MAC)
	c.NatAddresses = slices.Clone(r.NatAddresses)
	c.Options = cloneMap(r.Options)
	c.ExternalIDs = cloneMap(r.ExternalIDs)
	c.Tag = clonePtr(r.Tag)
	c.VirtualParent = clonePtr(r.VirtualParent)
}

// cloneMap copies m into a map sized for its entries (nil stays nil).
// maps.Clone would keep the source's spare capacity: libovsdb builds these
// maps while decoding, and at 100,000 ports the cached copies took 8.5 MB
// with maps.Clone instead of 6.5.
func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// clonePtr copies what p points to (nil stays nil).
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

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
