package config

import (
	"fmt"
	"strings"
)

// ExitInvalid is the exit status of ovnbgp when its configuration cannot be
// used (a bad value, a file that cannot be read or parsed).
const ExitInvalid = 2

// InvalidError reports one option whose value cannot be used. Its message
// names the option, its section and, when known, the file it came from:
//
//	invalid value "x" for option bgp_AS in [DEFAULT] of /etc/ovn-bgp-agent/bgp-agent.conf: must be an AS number ...
type InvalidError struct {
	Option  string // option name as written in the file, e.g. bgp_AS
	Section string // section, e.g. DEFAULT, ovn, ovnbgp
	Value   string // the offending value as written (secrets are masked)
	Reason  string // what is wrong, e.g. "must be one of: underlay"
	File    string // file the value came from; "" for a default or an unknown origin
}

// Error returns the one-line message.
func (e *InvalidError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid value %q for option %s in [%s]", e.Value, e.Option, e.Section)
	if e.File != "" {
		fmt.Fprintf(&b, " of %s", e.File)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

// ExitCode is the process exit status for this error (2).
func (e *InvalidError) ExitCode() int { return ExitInvalid }

// FileError reports a configuration file or directory that cannot be read,
// or a file that is not a valid INI file.
type FileError struct {
	Path string
	Err  error
}

// Error returns the one-line message.
func (e *FileError) Error() string {
	return fmt.Sprintf("configuration %s: %v", e.Path, e.Err)
}

// Unwrap returns the underlying error.
func (e *FileError) Unwrap() error { return e.Err }

// ExitCode is the process exit status for this error (2).
func (e *FileError) ExitCode() int { return ExitInvalid }
