// Package health runs the health checks of service VIPs (issue 19) in
// process: TCP connect, HTTP(S) GET with an expected status, and a command
// run without a shell; and turns their results into a steady state with
// rise/fall counts and a maintenance file, as ExaBGP's healthcheck program
// and HAProxy do.
package health

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// Prober runs one probe. It returns nil when the target is healthy, else
// an error saying why not (refused, timeout, status 503, exit status 1).
// The context carries the probe's timeout.
type Prober interface {
	Probe(ctx context.Context) error
	// Kind is "tcp", "http", "https", "command" or "none".
	Kind() string
}

// TCP connects to Addr (host:port) and closes the connection.
type TCP struct {
	Addr string
}

// Kind implements Prober.
func (TCP) Kind() string { return "tcp" }

// Probe implements Prober.
func (p TCP) Probe(ctx context.Context) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", p.Addr)
	if err != nil {
		return err
	}
	return c.Close()
}

// HTTP GETs URL and expects Status. Every probe opens a new connection (no
// keep-alive): a listener that stopped accepting is seen at the next probe,
// not when an idle connection happens to be closed.
type HTTP struct {
	URL    string
	Status int
	client *http.Client
}

// NewHTTP builds an HTTP(S) prober; verify checks the server certificate.
func NewHTTP(url string, status int, verify bool) *HTTP {
	tr := &http.Transport{
		DisableKeepAlives: true,
		Proxy:             nil,                                      // never through an HTTP proxy of the environment
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: !verify}, //nolint:gosec // operator's choice (tls_verify)
	}
	return &HTTP{URL: url, Status: status, client: &http.Client{
		Transport: tr,
		// A redirect is a status like any other: compared, not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Kind implements Prober.
func (p *HTTP) Kind() string {
	if len(p.URL) >= 8 && p.URL[:8] == "https://" {
		return "https"
	}
	return "http"
}

// Probe implements Prober.
func (p *HTTP) Probe(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "ovnbgp-healthcheck")
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	// Read a little of the body so that the server is not reset mid-answer,
	// then close.
	_, _ = io.CopyN(io.Discard, resp.Body, 4096)
	resp.Body.Close()
	if resp.StatusCode != p.Status {
		return fmt.Errorf("status %d, expected %d", resp.StatusCode, p.Status)
	}
	return nil
}

// Command runs Argv (Argv[0] an absolute path) without a shell; exit status
// 0 is healthy. At the timeout the whole process group is killed, so a
// command that forked cannot keep a child running.
type Command struct {
	Argv []string
}

// Kind implements Prober.
func (Command) Kind() string { return "command" }

// Probe implements Prober.
func (p Command) Probe(ctx context.Context) error {
	cmd := exec.Command(p.Argv[0], p.Argv[1:]...) //nolint:gosec // argv from the operator's configuration, no shell
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("exit status %d", ee.ExitCode())
		}
		return err
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return fmt.Errorf("killed: %w", ctx.Err())
	}
}

// None is always healthy (check = none).
type None struct{}

// Kind implements Prober.
func (None) Kind() string { return "none" }

// Probe implements Prober.
func (None) Probe(context.Context) error { return nil }

// HostPort joins a host (address or name) and a port.
func HostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// Run runs one probe with its timeout and returns its result and latency.
func Run(ctx context.Context, p Prober, timeout time.Duration) (time.Duration, error) {
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	err := p.Probe(pctx)
	lat := time.Since(start)
	if err != nil && pctx.Err() != nil && ctx.Err() == nil {
		err = fmt.Errorf("timeout after %s: %w", timeout, err)
	}
	return lat, err
}
