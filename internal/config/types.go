package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Parsers and checks of the option types. A parser turns the text of a value
// into its Go value (a type error); a check tells whether a Go value is
// acceptable (a range or choice error). Both return the reason only: the
// caller wraps it into an *InvalidError naming the option.

// MaxBridges is the number of provider bridges ovnbgp reserves routing
// tables for: bridge N of ovn-bridge-mappings uses table bridge_table_base+N,
// so bridge_table_base..bridge_table_base+MaxBridges must be valid table
// numbers that no other option uses.
const MaxBridges = 32

// MaxTableID is the highest Linux routing table number.
const MaxTableID = math.MaxUint32

var (
	trueWords  = []string{"true", "1", "on", "yes"}
	falseWords = []string{"false", "0", "off", "no"}
	// ovsdbRemoteRe is upstream's regex for ovsdb_connection and the OVN
	// connections (oslo re.search, anchored at the start).
	ovsdbRemoteRe = regexp.MustCompile(`^(tcp|ssl|unix):.+`)
	// wordRe is an FRR WORD-like name: no spaces, no control characters.
	wordRe = regexp.MustCompile(`^[A-Za-z0-9_.:@+-]+$`)
	// pathspaceRe is an FRR -N pathspace name (a directory name).
	pathspaceRe = regexp.MustCompile(`^[A-Za-z0-9_.-]*$`)
)

func parseBool(s string) (bool, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	for _, w := range trueWords {
		if v == w {
			return true, nil
		}
	}
	for _, w := range falseWords {
		if v == w {
			return false, nil
		}
	}
	return false, errors.New("must be a boolean: true/false, yes/no, on/off or 1/0")
}

func formatBool(b bool) string { return strconv.FormatBool(b) }

func parseInt(s string) (int, error) {
	v := strings.TrimSpace(s)
	if v == "" {
		return 0, errors.New("must be an integer (the value is empty; remove the line to use the default)")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, errors.New("integer out of range")
		}
		return 0, errors.New("must be an integer")
	}
	return int(n), nil
}

func formatInt(n int) string { return strconv.Itoa(n) }

// maxSeconds bounds second-valued options so they fit a time.Duration.
const maxSeconds = math.MaxInt32

func parseSeconds(s string) (time.Duration, error) {
	n, err := parseInt(s)
	if err != nil {
		return 0, err
	}
	if n < -maxSeconds || n > maxSeconds {
		return 0, fmt.Errorf("must be at most %d seconds", maxSeconds)
	}
	return time.Duration(n) * time.Second, nil
}

func formatSeconds(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10)
	}
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// parseString keeps a value as written; values are single lines.
func parseString(s string) (string, error) {
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		return "", errors.New("must be a single line without control characters")
	}
	return s, nil
}

func formatString(s string) string { return s }

// parseList splits an oslo ListOpt: comma-separated, items trimmed, empty
// items (a trailing comma, continuation lines) dropped.
func parseList(s string) ([]string, error) {
	var out []string
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if strings.IndexFunc(item, unicode.IsControl) >= 0 {
			return nil, fmt.Errorf("item %q contains control characters", item)
		}
		out = append(out, item)
	}
	return out, nil
}

func formatList(l []string) string { return strings.Join(l, ",") }

// parseAS parses an AS number: asplain 1..4294967295 or asdot X.Y (RFC 5396).
func parseAS(s string) (uint32, error) {
	const reason = "must be an AS number 1..4294967295 (asplain) or X.Y (asdot, X and Y 0..65535)"
	v := strings.TrimSpace(s)
	if hi, lo, ok := strings.Cut(v, "."); ok {
		h, err1 := strconv.ParseUint(hi, 10, 16)
		l, err2 := strconv.ParseUint(lo, 10, 16)
		if err1 != nil || err2 != nil || hi == "" || lo == "" || hi[0] == '+' || lo[0] == '+' {
			return 0, errors.New(reason)
		}
		as := uint32(h)<<16 | uint32(l)
		if as == 0 {
			return 0, errors.New(reason + "; AS 0 is reserved")
		}
		return as, nil
	}
	if v == "" || v[0] == '+' {
		return 0, errors.New(reason)
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return 0, errors.New(reason)
	}
	if n == 0 {
		return 0, errors.New(reason + "; AS 0 is reserved")
	}
	return uint32(n), nil
}

func formatAS(as uint32) string { return strconv.FormatUint(uint64(as), 10) }

// Checks.

func checkRange(lo, hi int) func(int) error {
	return func(n int) error {
		if n < lo || n > hi {
			return fmt.Errorf("must be between %d and %d", lo, hi)
		}
		return nil
	}
}

func checkMinSeconds(min int) func(time.Duration) error {
	return func(d time.Duration) error {
		if d < time.Duration(min)*time.Second || d > maxSeconds*time.Second {
			return fmt.Errorf("must be between %d and %d seconds", min, maxSeconds)
		}
		return nil
	}
}

func checkChoice(choices ...string) func(string) error {
	return func(s string) error {
		for _, c := range choices {
			if s == c {
				return nil
			}
		}
		return fmt.Errorf("must be one of: %s", strings.Join(choices, ", "))
	}
}

// checkRemote validates an OVSDB remote: upstream's ^(tcp|ssl|unix):.+ for
// each comma-separated member of a clustered remote. allowEmpty accepts "",
// the unset value of options without a default.
func checkRemote(allowEmpty bool) func(string) error {
	return func(s string) error {
		if s == "" && allowEmpty {
			return nil
		}
		for _, r := range strings.Split(s, ",") {
			if !ovsdbRemoteRe.MatchString(strings.TrimSpace(r)) {
				return errors.New(`must match ^(tcp|ssl|unix):.+ (e.g. tcp:127.0.0.1:6640, ssl:10.0.0.1:6642,ssl:10.0.0.2:6642, unix:/run/openvswitch/db.sock)`)
			}
		}
		return nil
	}
}

// checkTableID validates a Linux routing table number usable by ovnbgp.
func checkTableID(n int) error {
	if n < 1 || n > MaxTableID {
		return fmt.Errorf("must be a routing table number between 1 and %d", MaxTableID)
	}
	if n >= 253 && n <= 255 {
		return errors.New("tables 253, 254 and 255 are the kernel's default, main and local tables")
	}
	return nil
}

// validIfName reports whether s is a valid Linux interface name (the
// kernel's dev_valid_name: 1..15 bytes, not . or .., no /, : or spaces).
func validIfName(s string) bool {
	if s == "" || len(s) > 15 || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		if r == '/' || r == ':' || unicode.IsSpace(r) || unicode.IsControl(r) || r > unicode.MaxASCII {
			return false
		}
	}
	return true
}

func checkIfName(s string) error {
	if !validIfName(s) {
		return errors.New("must be a Linux interface name (1 to 15 characters, no '/', ':' or spaces)")
	}
	return nil
}

func checkIPv4OrEmpty(s string) error {
	if s == "" {
		return nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return errors.New("must be an IPv4 address (a BGP router-id), or empty")
	}
	return nil
}

func checkIPv6OrEmpty(s string) error {
	if s == "" {
		return nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() || a.Is4In6() || a.IsUnspecified() || a.IsLinkLocalUnicast() {
		return errors.New("must be a global or unique-local IPv6 address, or empty")
	}
	return nil
}

func checkIPOrEmpty(s string) error {
	if s == "" {
		return nil
	}
	if _, err := netip.ParseAddr(s); err != nil || strings.Contains(s, "%") {
		return errors.New("must be an IPv4 or IPv6 address, or empty")
	}
	return nil
}

func checkAbsPath(s string) error {
	if !strings.HasPrefix(s, "/") {
		return errors.New("must be an absolute path")
	}
	return nil
}

func checkWord(allowEmpty bool) func(string) error {
	return func(s string) error {
		if s == "" && allowEmpty {
			return nil
		}
		if !wordRe.MatchString(s) || len(s) > 63 {
			return errors.New("must be a name of 1 to 63 letters, digits or _ . : @ + -")
		}
		return nil
	}
}

func checkPathspace(s string) error {
	if !pathspaceRe.MatchString(s) || s == "." || s == ".." || len(s) > 63 {
		return errors.New("must be empty or a name of letters, digits, _ . - (FRR -N pathspace)")
	}
	return nil
}

func checkPassword(s string) error {
	if len(s) > 80 {
		return errors.New("must be at most 80 characters (TCP MD5 key)")
	}
	if strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		return errors.New("must not contain spaces")
	}
	return nil
}

func checkHostPortOrEmpty(s string) error {
	if s == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return errors.New("must be host:port (e.g. 127.0.0.1:9469, [::1]:9469, :9469), or empty to disable")
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil || port[0] == '+' {
		return errors.New("must be host:port with a port number 0..65535")
	}
	if strings.ContainsAny(host, " /") {
		return errors.New("must be host:port with an IP address or host name")
	}
	return nil
}

// routeProtocolReserved lists rtnetlink protocol numbers ovnbgp must not
// use: the kernel's (0-4) and the routing daemons' (FRR's zebra 11, babel
// 42, and 186-199 used by FRR's bgpd, isisd, ospfd, ripd, ...).
func checkRouteProtocol(n int) error {
	if n < 1 || n > 255 {
		return errors.New("must be between 1 and 255")
	}
	switch {
	case n <= 4:
		return errors.New("protocols 1-4 (redirect, kernel, boot, static) belong to the kernel and ip route")
	case n == 11 || n == 42 || (n >= 186 && n <= 199):
		return errors.New("protocols 11, 42 and 186-199 belong to FRR (zebra, babel, bgpd, ospfd, ...)")
	}
	return nil
}

func checkEach(check func(string) error) func([]string) error {
	return func(l []string) error {
		for _, s := range l {
			if err := check(s); err != nil {
				return fmt.Errorf("item %q: %w", s, err)
			}
		}
		return nil
	}
}

func checkIP(s string) error {
	if _, err := netip.ParseAddr(s); err != nil || strings.Contains(s, "%") {
		return errors.New("must be an IP address")
	}
	return nil
}

func checkPrefix(s string) error {
	if _, err := netip.ParsePrefix(s); err != nil {
		return errors.New("must be a CIDR prefix such as 192.168.0.0/16")
	}
	return nil
}

// checkPrefixList: every entry is a CIDR prefix in canonical form (no host
// bits: 10.0.0.1/8 is a typo more likely than a wish).
func checkPrefixList(l []string) error {
	for _, s := range l {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not a prefix (e.g. 10.0.0.0/8, 2001:db8::/32)", s)
		}
		if p != p.Masked() {
			return fmt.Errorf("%q has host bits set (did you mean %s?)", s, p.Masked())
		}
	}
	return nil
}

// ParseAS parses an AS number as bgp_AS takes it (asplain or asdot X.Y).
func ParseAS(s string) (uint32, error) { return parseAS(s) }
