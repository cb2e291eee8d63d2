package frr

import (
	"regexp"
	"strings"
)

// Secrets in FRR's configuration: the only one ovnbgp renders is the
// neighbor password (peer_password). A line holding one never reaches
// vtysh's argv (vtyshFile sends it through a 0600 file) and is masked in
// every log line, error and status ovnbgp prints.

// secretLine matches a password in a rendered line or in vtysh's output
// (which echoes a rejected line).
var secretLine = regexp.MustCompile(`(\bpassword )\S+`)

// hasSecret reports whether a script holds a line with a secret.
func hasSecret(script string) bool { return secretLine.MatchString(script) }

// redact masks the secrets in text: every `password X` and the configured
// peer password wherever it appears.
func (s *Speaker) redact(text string) string {
	text = secretLine.ReplaceAllString(text, "${1}***")
	if p := s.cfg.OVNBGP.PeerPassword; p != "" {
		text = strings.ReplaceAll(text, p, "***")
	}
	return text
}
