package agent

import "github.com/ovnbgp/ovnbgp/internal/config"

// identityTCPWarnings has one warning per plain tcp: member of the OVN
// remote taken from the local OVS database (external_ids:ovn-remote or
// ovn-nb-remote, used when the configuration sets none); the configured
// remotes are warned about by config.TCPWarnings at start.
func identityTCPWarnings(cfg *config.Config, id Identity, nb bool) []string {
	remote, from := id.SBRemote, "external_ids:ovn-remote"
	if nb {
		if cfg.OVN.NBConnection != "" {
			return nil
		}
		remote, from = id.NBRemote, "external_ids:ovn-nb-remote"
	} else if cfg.OVN.SBConnection != "" {
		return nil
	}
	var out []string
	for _, r := range config.PlainTCPRemotes(remote) {
		out = append(out, config.PlainTCPWarning(r, from))
	}
	return out
}
