package config

import "github.com/spf13/pflag"

// Source is where the configuration comes from: the oslo-style
// --config-file and --config-dir command-line flags.
type Source struct {
	Files []string // --config-file, in command-line order
	Dirs  []string // --config-dir, in command-line order
}

// AddFlags registers --config-file and --config-dir on fs. Both may be
// repeated; values are not split on commas (a path may contain one).
func AddFlags(fs *pflag.FlagSet) *Source {
	s := &Source{}
	fs.StringArrayVar(&s.Files, "config-file", nil, "configuration file (bgp-agent.conf); repeatable, later files override earlier ones")
	fs.StringArrayVar(&s.Dirs, "config-dir", nil, "directory whose *.conf files are read in lexical order after the --config-file files; repeatable")
	return s
}

// Load loads the configuration from the source (see Load).
func (s *Source) Load() (*Config, []string, error) { return Load(s.Files, s.Dirs) }

// Reload loads it again for a running agent (see Reload).
func (s *Source) Reload(cur *Config) (*Config, ReloadReport, error) {
	return Reload(cur, s.Files, s.Dirs)
}
