package config

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Service VIPs: one [ovnbgp_vip:NAME] section per address (issue 19). The
// sections are ovnbgp's own (upstream has none), so an unknown option in
// one is an error, not a warning: a misspelt "fall" would silently run
// with the default.

// SectionVIPPrefix starts the name of every VIP section: [ovnbgp_vip:api].
const SectionVIPPrefix = "ovnbgp_vip:"

// VIP modes.
const (
	// VIPActivePassive announces the address only while it is present on a
	// local interface (Pacemaker's IPaddr2 puts it there) and healthy.
	VIPActivePassive = "active-passive"
	// VIPAnycast: ovnbgp keeps the address on a local device itself and
	// every healthy node announces it.
	VIPAnycast = "anycast"
)

// VIP check types.
const (
	CheckNone    = "none"    // no check: healthy while present
	CheckTCP     = "tcp"     // TCP connect to target:port
	CheckHTTP    = "http"    // HTTP GET, expected status
	CheckHTTPS   = "https"   // HTTPS GET, expected status
	CheckCommand = "command" // argv, run without a shell; exit 0 is healthy
)

// What an unhealthy VIP does (on_failure).
const (
	OnFailureWithdraw = "withdraw" // withdraw the prefix
	OnFailureMED      = "med"      // keep it announced with MED deprefer_med
	OnFailurePrepend  = "prepend"  // keep it with the local AS prepended deprefer_prepend times
)

// VIP is one [ovnbgp_vip:NAME] section.
type VIP struct {
	Name            string        // NAME of the section
	Address         netip.Addr    // address (required), announced as a /32 or /128
	Mode            string        // mode: active-passive | anycast, active-passive
	Device          string        // device: anycast: the device ovnbgp keeps the address on, lo
	Check           string        // check: none|tcp|http|https|command, tcp when port is set, else none
	Target          string        // target: host to check, default the VIP address
	Port            int           // port: TCP/HTTP(S) port
	Path            string        // path: HTTP(S) path, /
	ExpectStatus    int           // expect_status: HTTP(S) status that is healthy, 200
	TLSVerify       bool          // tls_verify: verify the HTTPS certificate, false
	Command         []string      // command: argv, split on blanks, "..." and '...' quote
	Interval        time.Duration // interval, 1s (Go duration, or seconds)
	Timeout         time.Duration // timeout, interval (at most interval)
	Rise            int           // rise: successes in a row to become healthy, 2
	Fall            int           // fall: failures in a row to become unhealthy, 2
	OnFailure       string        // on_failure: withdraw|med|prepend, withdraw
	DepreferMED     uint32        // deprefer_med: MED of a de-preferred VIP, 1000
	DepreferPrepend int           // deprefer_prepend: prepend count, 3
	MaintenanceFile string        // maintenance_file: while it exists the VIP is withdrawn
}

// Prefix is the host prefix announced for the VIP.
func (v *VIP) Prefix() netip.Prefix {
	return netip.PrefixFrom(v.Address, v.Address.BitLen())
}

// vipOptions are the options of a VIP section, in documentation order.
var vipOptions = []string{"address", "mode", "device", "check", "target", "port", "path", "expect_status",
	"tls_verify", "command", "interval", "timeout", "rise", "fall", "on_failure", "deprefer_med",
	"deprefer_prepend", "maintenance_file"}

func isVIPSection(s string) bool { return strings.HasPrefix(s, SectionVIPPrefix) }

// buildVIPs reads every VIP section of the files (a later file overrides an
// earlier one, option by option, as everywhere), sorted by name.
func buildVIPs(files []*fileValues) ([]VIP, error) {
	type src struct{ value, file string }
	secs := map[string]map[string]src{}
	secFile := map[string]string{} // the last file that has the section
	for _, fv := range files {
		for _, s := range fv.sections {
			if n := normalizeSection(s); isVIPSection(n) {
				if secs[n] == nil {
					secs[n] = map[string]src{}
				}
				secFile[n] = fv.path
			}
		}
		for _, k := range fv.order {
			if !isVIPSection(k.section) {
				continue
			}
			if !slices.Contains(vipOptions, k.name) {
				return nil, &InvalidError{Option: k.name, Section: k.section, Value: fv.values[k], File: fv.path,
					Reason: "unknown option of a VIP section; known: " + strings.Join(vipOptions, ", ")}
			}
			secs[k.section][k.name] = src{fv.values[k], fv.path}
		}
	}
	names := make([]string, 0, len(secs))
	for n := range secs {
		names = append(names, n)
	}
	slices.Sort(names)
	var out []VIP
	seen := map[netip.Addr]string{}
	for _, sec := range names {
		opts := secs[sec]
		name := strings.TrimPrefix(sec, SectionVIPPrefix)
		v := VIP{Name: name, Mode: VIPActivePassive, Device: "lo", Path: "/", ExpectStatus: 200,
			Interval: time.Second, Rise: 2, Fall: 2, OnFailure: OnFailureWithdraw, DepreferMED: 1000, DepreferPrepend: 3}
		bad := func(opt, reason string) error {
			s, ok := opts[opt]
			if !ok {
				s.file = secFile[sec]
			}
			return &InvalidError{Option: opt, Section: sec, Value: s.value, File: s.file, Reason: reason}
		}
		if name == "" || strings.IndexFunc(name, func(r rune) bool {
			return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.')
		}) >= 0 {
			return nil, &InvalidError{Option: "(section name)", Section: sec, Value: name, File: secFile[sec],
				Reason: "a VIP section is [" + SectionVIPPrefix + "NAME], NAME of letters, digits, '-', '_', '.'"}
		}
		if _, ok := opts["address"]; !ok {
			return nil, bad("address", "every VIP section needs an address (IPv4 or IPv6)")
		}
		for _, opt := range vipOptions {
			s, ok := opts[opt]
			if !ok {
				continue
			}
			raw := strings.TrimSpace(s.value)
			if err := v.set(opt, raw); err != nil {
				return nil, bad(opt, err.Error())
			}
		}
		if err := v.finish(); err != nil {
			opt, reason, _ := strings.Cut(err.Error(), ": ")
			return nil, bad(opt, reason)
		}
		if other, dup := seen[v.Address]; dup {
			return nil, bad("address", "the same address is already the VIP of ["+SectionVIPPrefix+other+"]")
		}
		seen[v.Address] = name
		out = append(out, v)
	}
	return out, nil
}

// set parses one option into v.
func (v *VIP) set(opt, raw string) error {
	var err error
	switch opt {
	case "address":
		a, e := netip.ParseAddr(raw)
		switch {
		case e != nil:
			return fmt.Errorf("must be an IPv4 or IPv6 address")
		case a.Zone() != "":
			return fmt.Errorf("must be an address without a zone")
		case a.IsUnspecified() || a.IsMulticast() || a.IsLoopback() || a.IsLinkLocalUnicast():
			return fmt.Errorf("must be a unicast address that can be announced (not unspecified, loopback, link-local or multicast)")
		}
		v.Address = a.Unmap()
	case "mode":
		if raw != VIPActivePassive && raw != VIPAnycast {
			return fmt.Errorf("must be one of: %s, %s", VIPActivePassive, VIPAnycast)
		}
		v.Mode = raw
	case "device":
		if raw == "" || len(raw) > 15 || strings.ContainsAny(raw, "/ \t") {
			return fmt.Errorf("must be a network device name (1-15 characters, no '/' or blank)")
		}
		v.Device = raw
	case "check":
		if !slices.Contains([]string{CheckNone, CheckTCP, CheckHTTP, CheckHTTPS, CheckCommand}, raw) {
			return fmt.Errorf("must be one of: none, tcp, http, https, command")
		}
		v.Check = raw
	case "target":
		v.Target = raw
	case "port":
		v.Port, err = strconv.Atoi(raw)
		if err != nil || v.Port < 1 || v.Port > 65535 {
			return fmt.Errorf("must be a port number 1-65535")
		}
	case "path":
		if !strings.HasPrefix(raw, "/") {
			return fmt.Errorf("must start with /")
		}
		v.Path = raw
	case "expect_status":
		v.ExpectStatus, err = strconv.Atoi(raw)
		if err != nil || v.ExpectStatus < 100 || v.ExpectStatus > 599 {
			return fmt.Errorf("must be an HTTP status 100-599")
		}
	case "tls_verify":
		v.TLSVerify, err = parseBool(raw)
		return err
	case "command":
		v.Command, err = SplitArgv(raw)
		return err
	case "interval", "timeout":
		d, e := parseVIPDuration(raw)
		if e != nil {
			return e
		}
		if opt == "interval" {
			if d < 10*time.Millisecond {
				return fmt.Errorf("must be at least 10ms")
			}
			v.Interval = d
		} else {
			if d < time.Millisecond {
				return fmt.Errorf("must be at least 1ms")
			}
			v.Timeout = d
		}
	case "rise", "fall":
		n, e := strconv.Atoi(raw)
		if e != nil || n < 1 || n > 100 {
			return fmt.Errorf("must be an integer 1-100")
		}
		if opt == "rise" {
			v.Rise = n
		} else {
			v.Fall = n
		}
	case "on_failure":
		if !slices.Contains([]string{OnFailureWithdraw, OnFailureMED, OnFailurePrepend}, raw) {
			return fmt.Errorf("must be one of: withdraw, med, prepend")
		}
		v.OnFailure = raw
	case "deprefer_med":
		n, e := strconv.ParseUint(raw, 10, 32)
		if e != nil {
			return fmt.Errorf("must be an integer 0-4294967295")
		}
		v.DepreferMED = uint32(n)
	case "deprefer_prepend":
		n, e := strconv.Atoi(raw)
		if e != nil || n < 1 || n > 10 {
			return fmt.Errorf("must be an integer 1-10")
		}
		v.DepreferPrepend = n
	case "maintenance_file":
		if !filepath.IsAbs(raw) {
			return fmt.Errorf("must be an absolute path")
		}
		v.MaintenanceFile = raw
	}
	return nil
}

// finish applies the defaults that depend on other options and the rules
// between them; an error is "option: reason".
func (v *VIP) finish() error {
	if v.Check == "" {
		v.Check = CheckNone
		if v.Port != 0 {
			v.Check = CheckTCP
		}
	}
	if v.Timeout == 0 {
		v.Timeout = v.Interval
	}
	if v.Timeout > v.Interval {
		return fmt.Errorf("timeout: must not be longer than interval (%s)", v.Interval)
	}
	switch v.Check {
	case CheckTCP, CheckHTTP, CheckHTTPS:
		if v.Port == 0 {
			return fmt.Errorf("port: check = %s needs a port", v.Check)
		}
		if v.Target != "" {
			if _, err := netip.ParseAddr(v.Target); err != nil && !validHostname(v.Target) {
				return fmt.Errorf("target: must be an address or a host name")
			}
		}
	case CheckCommand:
		if len(v.Command) == 0 {
			return fmt.Errorf("command: check = command needs a command (argv, run without a shell)")
		}
		if !filepath.IsAbs(v.Command[0]) {
			return fmt.Errorf("command: the program must be an absolute path (no shell, no PATH lookup)")
		}
	}
	return nil
}

func validHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool {
		return !(r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '.'))
	}) < 0
}

// parseVIPDuration reads "200ms", "1.5s" or a number of seconds ("0.2").
func parseVIPDuration(raw string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(raw, 64); err == nil {
		if f <= 0 || f > 3600 {
			return 0, fmt.Errorf("must be a positive duration (\"200ms\", \"1s\" or seconds) up to 1h")
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d <= 0 || d > time.Hour {
		return 0, fmt.Errorf("must be a positive duration (\"200ms\", \"1s\" or seconds) up to 1h")
	}
	return d, nil
}

// SplitArgv splits a command line into its arguments the way a reader
// expects, without a shell: blanks separate, "..." and '...' quote (no
// escapes inside '...', \" and \\ inside "..."), nothing is expanded.
func SplitArgv(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	in := false // inside an argument
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		case c == '\'' || c == '"':
			in = true
			j := i + 1
			for ; j < len(s) && s[j] != c; j++ {
				if c == '"' && s[j] == '\\' && j+1 < len(s) && (s[j+1] == '"' || s[j+1] == '\\') {
					j++
				}
				cur.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated %c quote", c)
			}
			i = j
		default:
			in = true
			cur.WriteByte(c)
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out, nil
}

// OVN modes ([ovnbgp] ovn).
const (
	OVNAuto = "auto" // OVN off when VIP sections exist and no OVS database is configured or present
	OVNOn   = "true"
	OVNOff  = "false"
)

// diffVIPs lists the VIP sections added, removed or changed, for Diff.
func diffVIPs(old, cur []VIP) []string {
	var out []string
	idx := map[string]*VIP{}
	for i := range old {
		idx[old[i].Name] = &old[i]
	}
	for i := range cur {
		v := &cur[i]
		o, ok := idx[v.Name]
		delete(idx, v.Name)
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("[%s%s]: added", SectionVIPPrefix, v.Name))
		case !v.Equal(o):
			out = append(out, fmt.Sprintf("[%s%s]: changed", SectionVIPPrefix, v.Name))
		}
	}
	for i := range old {
		if _, gone := idx[old[i].Name]; gone {
			out = append(out, fmt.Sprintf("[%s%s]: removed", SectionVIPPrefix, old[i].Name))
		}
	}
	return out
}

// Equal compares two VIP sections.
func (v *VIP) Equal(o *VIP) bool {
	return slices.Equal(v.Command, o.Command) && fmt.Sprintf("%+v", v.withoutCommand()) == fmt.Sprintf("%+v", o.withoutCommand())
}

func (v *VIP) withoutCommand() VIP {
	n := *v
	n.Command = nil
	return n
}
