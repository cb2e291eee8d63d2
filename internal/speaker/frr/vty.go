package frr

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"
)

// A direct client of one FRR daemon's vty socket (<run dir>/bgpd.vty),
// speaking what vtysh speaks: each command is written with a terminating
// NUL; the daemon answers with the command's output followed by three NULs
// and a status byte (0: success). It saves starting vtysh, which connects
// to every daemon and takes 0.1-1 s on a loaded machine: the service VIPs'
// `network` statements change at failover time.

// vtySocket is the path of daemon's vty socket.
func (s *Speaker) vtySocket(daemon string) string {
	dir := s.cfg.OVNBGP.FRRVtySocket
	if dir == "" {
		dir = "/var/run/frr"
	}
	if s.opts.Pathspace != "" {
		dir = filepath.Join(dir, s.opts.Pathspace)
	}
	return filepath.Join(dir, daemon+".vty")
}

// vtyRun runs commands on one daemon's vty, in order, and stops at the
// first that does not succeed.
func vtyRun(ctx context.Context, socket string, cmds []string) (string, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return "", err
	}
	defer c.Close()
	deadline := time.Now().Add(5 * time.Second)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = c.SetDeadline(deadline)
	var out strings.Builder
	buf := make([]byte, 4096)
	for _, cmd := range cmds {
		if _, err := c.Write(append([]byte(cmd), 0)); err != nil {
			return out.String(), fmt.Errorf("vty %s: write %q: %w", socket, cmd, err)
		}
		var reply []byte
		for {
			n, err := c.Read(buf)
			reply = append(reply, buf[:n]...)
			if len(reply) >= 4 && bytes.Equal(reply[len(reply)-4:len(reply)-1], []byte{0, 0, 0}) {
				break
			}
			if err != nil {
				return out.String(), fmt.Errorf("vty %s: %q: %w", socket, cmd, err)
			}
		}
		status := reply[len(reply)-1]
		text := strings.TrimSpace(string(reply[:len(reply)-4]))
		if text != "" {
			out.WriteString(text + "\n")
		}
		if status != 0 {
			return out.String(), fmt.Errorf("vty %s: %q failed (status %d): %s", socket, cmd, status, text)
		}
	}
	return out.String(), nil
}

// vtyScript turns a rendered script (Text: contexts closed by their exit
// lines) into the commands of one configure session.
func vtyScript(script string) []string {
	cmds := []string{"enable", "configure terminal"}
	for _, l := range strings.Split(script, "\n") {
		if t := strings.TrimSpace(l); t != "" {
			cmds = append(cmds, t)
		}
	}
	return append(cmds, "end")
}
