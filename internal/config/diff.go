package config

import "fmt"

// Diff lists the options whose value differs between old and c, one line
// each, for logging a reload:
//
//	[DEFAULT] reconcile_interval: 300 -> 60
//
// Secret values are not printed.
func (c *Config) Diff(old *Config) []string {
	var out []string
	for i := range options {
		o := &options[i]
		a, b := o.get(old), o.get(c)
		if a == b {
			continue
		}
		if o.secret {
			out = append(out, fmt.Sprintf("[%s] %s: changed", o.section, o.name))
			continue
		}
		out = append(out, fmt.Sprintf("[%s] %s: %q -> %q", o.section, o.name, a, b))
	}
	return append(out, diffVIPs(old.VIPs, c.VIPs)...)
}

// ReloadableChange tells whether going from old to c can be done without a
// restart. needsRestart lists ("[section] name") the changed options that
// take effect only at start: connections, the driver and exposing method,
// the ownership markers (route_protocol, rule priorities, tables), the
// speaker and its paths, bgp_AS and the router-ids, logging destinations,
// the metrics address. Everything else (intervals, what to expose, debug,
// peers, BFD, ECMP, prefix filtering, withdraw_on_stop) may change at run
// time.
func (c *Config) ReloadableChange(old *Config) (ok bool, needsRestart []string) {
	for i := range options {
		o := &options[i]
		if o.restart && o.get(old) != o.get(c) {
			needsRestart = append(needsRestart, fmt.Sprintf("[%s] %s", o.section, o.name))
		}
	}
	return len(needsRestart) == 0, needsRestart
}

// KeepRestartOptions returns a copy of c in which every option that needs a
// restart has old's value: what a running agent applies on SIGHUP when the
// new file also changes such options (it logs them and keeps running with
// the old values until restarted).
func (c *Config) KeepRestartOptions(old *Config) *Config {
	n := c.Clone()
	for i := range options {
		if o := &options[i]; o.restart {
			o.copy(n, old)
		}
	}
	return n
}

// Value is one option of a configuration, for `ovnbgp config`-like output
// and documentation checks.
type Value struct {
	Section string
	Name    string
	Type    string
	Value   string // "***" for a set secret
	Default string
	Restart bool // a change needs a restart
}

// Values lists every option ovnbgp reads with its current and default value,
// in documentation order.
func (c *Config) Values() []Value {
	def := Default()
	out := make([]Value, 0, len(options))
	for i := range options {
		o := &options[i]
		v := Value{Section: o.section, Name: o.name, Type: o.typ, Value: o.get(c), Default: o.get(def), Restart: o.restart}
		if o.secret && v.Value != "" {
			v.Value = "***"
		}
		out = append(out, v)
	}
	return out
}

// ReloadReport describes a reload for the log.
type ReloadReport struct {
	Warnings     []string // from loading the files (unknown options, ...)
	Changed      []string // every changed option (Diff), including NeedsRestart
	NeedsRestart []string // changed options kept at their running value until a restart
}

// Reload reads the files again for a running agent whose configuration is
// cur (on SIGHUP). On error nothing changes: the caller keeps cur and logs
// the error. Otherwise next is the configuration to run with from now on:
// the new values of the options that may change at run time and cur's
// values of those that need a restart (listed in the report).
func Reload(cur *Config, files, dirs []string) (next *Config, report ReloadReport, err error) {
	c, warnings, err := Load(files, dirs)
	report.Warnings = warnings
	if err != nil {
		return nil, report, err
	}
	report.Changed = c.Diff(cur)
	_, report.NeedsRestart = c.ReloadableChange(cur)
	return c.KeepRestartOptions(cur), report, nil
}
