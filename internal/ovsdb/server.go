package ovsdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// The _Server database (ovsdb-server(5)) describes each database a server
// holds: its model (standalone, clustered, relay), whether a clustered
// member is connected to its cluster (or a relay to its source), whether it
// is the leader, and the cluster index of the data it serves. A client that
// takes a member's rows as the truth without reading it may replace the
// current generation with a partitioned or stale member's old data. The
// rules are those of OVS's IDL (lib/ovsdb-cs.c, python/ovs/db/idl.py).

// serverMonitorID names the _Server monitor of a connection (beside the
// data monitor, monitorID).
const serverMonitorID = "ovnbgp-server"

// serverDB is the _Server Database row of the monitored database.
type serverDB struct {
	model     string // "standalone", "clustered" or "relay"
	connected bool
	leader    bool
	hasSchema bool
	index     int64 // 0: none
	hasIndex  bool
}

// Refusal reasons (the metric's label).
const (
	refusedNoDatabase   = "no_database"
	refusedNotJoined    = "not_joined"
	refusedDisconnected = "disconnected"
	refusedNotLeader    = "not_leader"
	refusedStale        = "stale_index"
)

// memberRefusal decides whether a server's copy of the database can be
// used, as OVS's IDL does: a clustered member must have joined (its row has
// a schema), be connected to the cluster, be the leader when leaderOnly, and
// serve data at a cluster index no lower than the highest one this client
// has accepted (minIndex); a relay must have its schema and be connected to
// its source (it is never a leader); a standalone database is always
// acceptable. It returns "" when acceptable, else a reason and its text.
func memberRefusal(db *serverDB, minIndex int64, leaderOnly bool) (reason, text string) {
	switch {
	case db == nil:
		return refusedNoDatabase, "the server does not have the database"
	case db.model == "clustered":
		switch {
		case !db.hasSchema:
			return refusedNotJoined, "clustered database server has not yet joined the cluster"
		case !db.connected:
			return refusedDisconnected, "clustered database server is disconnected from the cluster"
		case leaderOnly && !db.leader:
			return refusedNotLeader, "clustered database server is not the cluster leader"
		case db.hasIndex && db.index < minIndex:
			return refusedStale, fmt.Sprintf("clustered database server has stale data (index %d, already seen %d)", db.index, minIndex)
		}
	case db.model == "relay":
		switch {
		case !db.hasSchema:
			return refusedNotJoined, "relay database server has not yet connected to its source"
		case !db.connected:
			return refusedDisconnected, "relay database server is disconnected from its source"
		case leaderOnly:
			return refusedNotLeader, "relay database server cannot be the leader"
		}
	}
	return "", ""
}

// leaderOnly is false: ovnbgp only reads. A follower that is connected to
// its cluster serves the committed data (and a relay, never a leader, the
// source's), which is what ovn-controller, another read-mostly client,
// accepts (it turns the IDL's leader_only off for the southbound). Writers
// such as ovn-northd need the leader; a reader that insisted on it would
// put every chassis on one member and could not use relays.
const leaderOnly = false

// decodeServerRow reads a _Server Database row (RFC 7047 notation).
func decodeServerRow(raw json.RawMessage) (name string, db *serverDB, err error) {
	var cells map[string]json.RawMessage
	if err := json.Unmarshal(raw, &cells); err != nil {
		return "", nil, err
	}
	db = &serverDB{}
	if err := json.Unmarshal(cells["name"], &name); err != nil {
		return "", nil, fmt.Errorf("name: %w", err)
	}
	if err := json.Unmarshal(cells["model"], &db.model); err != nil {
		return "", nil, fmt.Errorf("model: %w", err)
	}
	if err := json.Unmarshal(cells["connected"], &db.connected); err != nil {
		return "", nil, fmt.Errorf("connected: %w", err)
	}
	if err := json.Unmarshal(cells["leader"], &db.leader); err != nil {
		return "", nil, fmt.Errorf("leader: %w", err)
	}
	// schema and index are optional: an atom, or ["set", []] when empty.
	var schema string
	db.hasSchema = json.Unmarshal(cells["schema"], &schema) == nil && schema != ""
	db.hasIndex = json.Unmarshal(cells["index"], &db.index) == nil
	return name, db, nil
}

// serverRows reads the rows of a _Server table-updates object (a monitor's
// reply or an update notification's second param) and returns the
// monitored database's row; found is false when the updates do not name it,
// and db is nil when they delete it.
func (c *Client) serverRows(tu json.RawMessage) (db *serverDB, found bool, err error) {
	var upd map[string]map[string]struct {
		Old json.RawMessage `json:"old"`
		New json.RawMessage `json:"new"`
	}
	if err := json.Unmarshal(tu, &upd); err != nil {
		return nil, false, fmt.Errorf("_Server update: %w", err)
	}
	for _, ru := range upd["Database"] {
		row := ru.New
		if row == nil {
			row = ru.Old
		}
		name, d, err := decodeServerRow(row)
		if err != nil {
			return nil, false, fmt.Errorf("_Server Database row: %w", err)
		}
		if name != c.spec.Name {
			continue
		}
		if ru.New == nil {
			return nil, true, nil
		}
		return d, true, nil
	}
	return nil, false, nil
}

// errRefused marks a member left because of its _Server state.
var errRefused = errors.New("member not acceptable")

// checkServer monitors the server's _Server Database table on the
// connection to ep and returns an error wrapping errRefused when the member
// cannot be used; it is called before the data monitor, so a refused
// member's rows never reach the cache. A server without _Server (before
// OVS 2.9) is a standalone one and is accepted.
func (c *Client) checkServer(ctx context.Context, rpc *rpcConn, ep string) error {
	req := map[string]any{"Database": map[string]any{
		"columns": []string{"name", "model", "connected", "leader", "schema", "index"}}}
	res, err := rpc.call(ctx, "monitor", []any{"_Server", serverMonitorID, req})
	if err != nil {
		if rpc.cause() != nil || ctx.Err() != nil {
			return fmt.Errorf("monitor _Server: %w", err)
		}
		c.log.Debug("ovsdb: no _Server database; accepting the server as standalone", "endpoint", ep, "error", err)
		return nil
	}
	db, _, err := c.serverRows(res)
	if err != nil {
		return fmt.Errorf("ovsdb %s: %s: %w", c.spec.Name, ep, err)
	}
	return c.judge(ep, db)
}

// serverUpdate handles an update of g's _Server monitor: a member that is
// no longer acceptable (cut off from its cluster, or its database removed)
// is left; the next generation is built on an acceptable one, and until
// then the current rows are served.
func (c *Client) serverUpdate(g *generation, params json.RawMessage) {
	var p []json.RawMessage
	if err := json.Unmarshal(params, &p); err != nil || len(p) != 2 || string(p[0]) != `"`+serverMonitorID+`"` {
		return
	}
	db, found, err := c.serverRows(p[1])
	if err != nil {
		c.log.Warn("ovsdb: unreadable _Server update; reconnecting", "endpoint", g.endpoint, "error", err)
		g.rpc.close()
		return
	}
	if !found {
		return
	}
	if c.judge(g.endpoint, db) != nil {
		g.rpc.close()
	}
}

// judge applies memberRefusal to the member at ep: a refusal is logged (a
// warning when the member's reason changes), counted in
// ovnbgp_ovsdb_member_refused_total and returned; an acceptable clustered
// member's index becomes the lowest acceptable one.
func (c *Client) judge(ep string, db *serverDB) error {
	c.srvMu.Lock()
	defer c.srvMu.Unlock()
	reason, text := memberRefusal(db, c.minIndex, leaderOnly)
	if reason == "" {
		if db != nil && db.model == "clustered" && db.hasIndex && db.index > c.minIndex {
			c.minIndex = db.index
		}
		delete(c.refusedAs, ep)
		return nil
	}
	metricMemberRefused.WithLabelValues(c.spec.Name, reason).Inc()
	if c.refusedAs == nil {
		c.refusedAs = map[string]string{}
	}
	log := c.log.Debug
	if c.refusedAs[ep] != reason {
		log = c.log.Warn
		c.refusedAs[ep] = reason
	}
	log("ovsdb: leaving a database member that cannot be used; trying another one later",
		"endpoint", ep, "reason", text)
	return fmt.Errorf("%s: %w: %s", ep, errRefused, text)
}
