package ovsdbserver

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// PKI is a certificate authority with a server and a client certificate,
// made by ovs-pki as OVN deployments make them.
type PKI struct {
	Dir        string
	CACert     string
	ServerKey  string
	ServerCert string
	ClientKey  string
	ClientCert string
}

// NewPKI creates the CA and the two certificates in a temp directory.
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	dir := t.TempDir()
	pkiDir := filepath.Join(dir, "pki")
	logf := filepath.Join(dir, "pki.log")
	run := func(args ...string) {
		cmd := exec.Command("ovs-pki", append([]string{"-d", pkiDir, "-l", logf}, args...)...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ovs-pki %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	run("init")
	run("req+sign", "server", "switch")
	run("req+sign", "client", "switch")
	return &PKI{
		Dir:        dir,
		CACert:     filepath.Join(pkiDir, "switchca", "cacert.pem"),
		ServerKey:  filepath.Join(dir, "server-privkey.pem"),
		ServerCert: filepath.Join(dir, "server-cert.pem"),
		ClientKey:  filepath.Join(dir, "client-privkey.pem"),
		ClientCert: filepath.Join(dir, "client-cert.pem"),
	}
}

// Cluster is a RAFT cluster of ovsdb-server members.
type Cluster struct {
	Members []*Server
}

// StartCluster creates and starts an n-member clustered database for schema
// and waits until every member has joined.
func StartCluster(t testing.TB, schema string, n int) *Cluster {
	t.Helper()
	name := schemaName(t, schema)
	c := &Cluster{}
	raft := make([]string, n)
	for i := range raft {
		raft[i] = fmt.Sprintf("tcp:127.0.0.1:%d", FreePort(t))
	}
	for i := 0; i < n; i++ {
		dir := t.TempDir()
		s := &Server{t: t, opts: Options{Schema: schema}, Dir: dir,
			DBFile: filepath.Join(dir, "db.db"), Sock: filepath.Join(dir, "db.sock")}
		var args []string
		if i == 0 {
			args = []string{"create-cluster", s.DBFile, schema, raft[0]}
		} else {
			args = []string{"join-cluster", s.DBFile, name, raft[i], raft[0]}
		}
		if out, err := exec.Command("ovsdb-tool", args...).CombinedOutput(); err != nil {
			t.Fatalf("ovsdb-tool %s: %v: %s", strings.Join(args, " "), err, out)
		}
		s.args = s.serverArgs(s.DBFile)
		s.start()
		t.Cleanup(s.Kill)
		c.Members = append(c.Members, s)
	}
	// Wait until every member reports itself as connected to the cluster.
	deadline := time.Now().Add(30 * time.Second)
	for _, s := range c.Members {
		for {
			out, _ := exec.Command("ovs-appctl", "-t", filepath.Join(s.Dir, "db.ctl"),
				"cluster/status", name).CombinedOutput()
			if strings.Contains(string(out), "Status: cluster member") && strings.Contains(string(out), "Leader: ") &&
				!strings.Contains(string(out), "Leader: unknown") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("cluster member %s did not join: %s", s.Dir, out)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return c
}

// Remote is the comma-separated list of the members' unix remotes, as a
// clustered OVN database is given to its clients.
func (c *Cluster) Remote() string {
	r := make([]string, len(c.Members))
	for i, s := range c.Members {
		r[i] = s.Remote()
	}
	return strings.Join(r, ",")
}

// Member returns the member whose unix socket is in remote, or nil.
func (c *Cluster) Member(remote string) *Server {
	for _, s := range c.Members {
		if strings.Contains(remote, s.Sock) {
			return s
		}
	}
	return nil
}

func schemaName(t testing.TB, schema string) string {
	t.Helper()
	out, err := exec.Command("ovsdb-tool", "schema-name", schema).Output()
	if err != nil {
		t.Fatalf("ovsdb-tool schema-name %s: %v", schema, err)
	}
	return strings.TrimSpace(string(out))
}

// StartRelay starts an ovsdb-server that relays the database of schema
// from source (a remote or a comma-separated list: ovsdb-server(1)
// relay:DB:REMOTES), as large OVN deployments put in front of the
// southbound's cluster.
func StartRelay(t testing.TB, schema, source string) *Server {
	t.Helper()
	dir := t.TempDir()
	s := &Server{t: t, opts: Options{Schema: schema}, Dir: dir, Sock: filepath.Join(dir, "db.sock")}
	s.args = s.serverArgs("relay:" + schemaName(t, schema) + ":" + source)
	s.start()
	t.Cleanup(s.Kill)
	return s
}
