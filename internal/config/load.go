package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gopkg.in/ini.v1"
)

// iniOptions makes gopkg.in/ini.v1 read files the way oslo.config does:
// case-sensitive option names, no inline comments (a # or ; after a value
// is part of the value), no backslash continuation, indented lines continue
// the previous value, surrounding quotes are removed.
var iniOptions = ini.LoadOptions{
	IgnoreInlineComment:        true,
	IgnoreContinuation:         true,
	AllowPythonMultilineValues: true,
}

// fileValues is what one file sets: section → option → value (the last
// occurrence wins inside a file), plus the order of appearance.
type fileValues struct {
	path   string
	values map[optKey]string
	order  []optKey
	// sections as written (normalized name → first spelling), for warnings.
	sections []string
}

// Load reads the configuration like oslo.config: the files in order, then
// the *.conf files of each directory in lexical order (hidden files
// skipped); a later file overrides an earlier one, option by option. Options
// not set anywhere keep their defaults. The result is validated.
//
// The warnings name unknown sections and options (with their section and
// file), deprecated option locations and values that look like they carry an
// inline comment. The error is an *InvalidError for a value that cannot be
// used, or a *FileError for a file or directory that cannot be read or
// parsed; both have ExitCode() == 2. Load touches nothing but the files it
// reads.
func Load(files []string, dirs []string) (*Config, []string, error) {
	paths := slices.Clone(files)
	for _, d := range dirs {
		fs, err := confFiles(d)
		if err != nil {
			return nil, nil, err
		}
		paths = append(paths, fs...)
	}
	var parsed []*fileValues
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, &FileError{Path: p, Err: unwrapPathError(err)}
		}
		fv, err := parseFile(p, data)
		if err != nil {
			return nil, nil, err
		}
		parsed = append(parsed, fv)
	}
	return build(parsed)
}

// LoadBytes reads one configuration given as text, as Load would read a file
// named name. It is meant for tests and tools.
func LoadBytes(name string, data []byte) (*Config, []string, error) {
	fv, err := parseFile(name, data)
	if err != nil {
		return nil, nil, err
	}
	return build([]*fileValues{fv})
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// confFiles lists the *.conf files of a --config-dir directory, sorted.
func confFiles(dir string) ([]string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, &FileError{Path: dir, Err: unwrapPathError(err)}
	}
	if !st.IsDir() {
		return nil, &FileError{Path: dir, Err: errors.New("not a directory (--config-dir takes a directory; use --config-file for a file)")}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, &FileError{Path: dir, Err: unwrapPathError(err)}
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") || !strings.HasSuffix(n, ".conf") {
			continue
		}
		p := filepath.Join(dir, n)
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			continue
		}
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}

// normalizeSection applies oslo.config's rule: DEFAULT stays, every other
// section name is lower-cased.
func normalizeSection(s string) string {
	if s == ini.DefaultSection {
		return s
	}
	return strings.ToLower(s)
}

// parseFile reads one file with ini.v1. ini.v1's lookups (GetKey, MapTo)
// fall back from a section to [DEFAULT]; only each section's own keys are
// read here, so a [DEFAULT] option never appears to be set in another section.
func parseFile(path string, data []byte) (fv *fileValues, err error) {
	defer func() {
		// ini.v1 is third-party code fed with operator input: a panic in it
		// is a parse error, not a crash.
		if r := recover(); r != nil {
			fv, err = nil, &FileError{Path: path, Err: fmt.Errorf("cannot parse: %v", r)}
		}
	}()
	f, err := ini.LoadSources(iniOptions, data)
	if err != nil {
		return nil, &FileError{Path: path, Err: fmt.Errorf("cannot parse: %w", err)}
	}
	fv = &fileValues{path: path, values: map[optKey]string{}}
	seen := map[string]bool{}
	for _, sec := range f.Sections() {
		name := normalizeSection(sec.Name())
		if !seen[name] && (len(sec.Keys()) > 0 || sec.Name() != ini.DefaultSection) {
			seen[name] = true
			fv.sections = append(fv.sections, sec.Name())
		}
		for _, k := range sec.Keys() {
			key := optKey{name, k.Name()}
			if _, dup := fv.values[key]; !dup {
				fv.order = append(fv.order, key)
			}
			v := k.Value()
			if strings.Contains(v, "\n") {
				// A line of spaces ends a continued value in oslo.config;
				// ini.v1 appends it.
				v = strings.TrimRight(v, " \t\r\n\f")
			}
			fv.values[key] = v
		}
	}
	return fv, nil
}

// build applies the files (later wins) over the defaults, then validates.
func build(files []*fileValues) (*Config, []string, error) {
	var warnings []string
	warn := func(format string, a ...any) { warnings = append(warnings, fmt.Sprintf(format, a...)) }

	// Unknown sections and options, per file and per section.
	for _, fv := range files {
		for _, s := range fv.sections {
			n := normalizeSection(s)
			if knownSection(n) {
				continue
			}
			if n == "default" {
				warn("section [%s] of %s ignored: it is not [DEFAULT] (only DEFAULT is case-sensitive, as in oslo.config)", s, fv.path)
			} else {
				warn("unknown section [%s] of %s ignored", s, fv.path)
			}
		}
		for _, k := range fv.order {
			if !knownSection(k.section) || isVIPSection(k.section) {
				continue // reported with its section; VIP sections: buildVIPs
			}
			if o, ok := optionIndex[k]; ok {
				if k.section != o.section || k.name != o.name {
					warn("option %s in [%s] of %s is deprecated: use %s in [%s]", k.name, k.section, fv.path, o.name, o.section)
				}
				if v := fv.values[k]; strings.Contains(v, " #") || strings.Contains(v, " ;") {
					warn("option %s in [%s] of %s: the value contains \" #\" or \" ;\"; inline comments are not supported, the whole text is the value", k.name, k.section, fv.path)
				}
				continue
			}
			if quiet(k) {
				continue
			}
			if why, ok := removedOptions[k]; ok {
				warn("option %s in [%s] of %s ignored: %s", k.name, k.section, fv.path, why)
				continue
			}
			if o := caseMismatch(k); o != nil {
				warn("unknown option %s in [%s] of %s ignored (option names are case-sensitive: did you mean %s?)", k.name, k.section, fv.path, o.name)
				continue
			}
			warn("unknown option %s in [%s] of %s ignored", k.name, k.section, fv.path)
		}
	}

	c := Default()
	origin := map[optKey]string{} // option → file its value came from
	for i := range options {
		o := &options[i]
		keys := append([]optKey{{o.section, o.name}}, o.deprecated...)
		var raw, from string
		found := false
		// oslo.config: the newest file holding any of the names wins; in a
		// file, the current name wins over a deprecated one.
		for j := len(files) - 1; j >= 0 && !found; j-- {
			for _, k := range keys {
				if v, ok := files[j].values[k]; ok {
					raw, from, found = v, files[j].path, true
					break
				}
			}
		}
		if !found {
			continue
		}
		if err := o.set(c, raw); err != nil {
			return nil, warnings, o.invalid(raw, from, err.Error())
		}
		origin[optKey{o.section, o.name}] = from
	}
	vips, err := buildVIPs(files)
	if err != nil {
		return nil, warnings, err
	}
	c.VIPs = vips
	if err := c.Validate(); err != nil {
		var ie *InvalidError
		if errors.As(err, &ie) && ie.File == "" {
			ie.File = origin[optKey{ie.Section, ie.Option}]
		}
		return nil, warnings, err
	}
	return c, warnings, nil
}

// caseMismatch finds the option whose name differs from k's only in case.
func caseMismatch(k optKey) *option {
	for i := range options {
		o := &options[i]
		if o.section == k.section && strings.EqualFold(o.name, k.name) {
			return o
		}
	}
	return nil
}

// invalid builds the error for a value of this option.
func (o *option) invalid(value, file, reason string) *InvalidError {
	if o.secret {
		value = "***"
	}
	if strings.Contains(value, " #") || strings.Contains(value, " ;") {
		reason += " (inline comments are not supported: text after the value is part of it)"
	}
	if strings.Contains(value, "\n") {
		reason += " (an indented line continues the value of the option above it)"
	}
	return &InvalidError{Option: o.name, Section: o.section, Value: value, Reason: reason, File: file}
}
