package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ovnbgp/ovnbgp/internal/ovsdb"
	"github.com/ovnbgp/ovnbgp/internal/ovsdb/sbdb"
)

func init() {
	var remote, db, table, chassis string
	var timeout time.Duration
	var showRSS bool
	var tlsFiles ovsdb.TLSFiles
	cmd := &cobra.Command{
		Use:   "ovsdb-count",
		Short: "Connect, monitor, and print the number of rows of a table after the initial dump",
		Long: `Connects to an OVSDB server with ovnbgp's client, monitors the database's
tables with ovnbgp's column lists, waits for the initial dump and prints
"rows=N seconds=S" for the given table. With --chassis (southbound only) it
applies the conditional monitoring of that chassis, as the agent does.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			spec, ok := map[string]ovsdb.DBSpec{
				ovsdb.Southbound.Name: ovsdb.Southbound,
				ovsdb.Northbound.Name: ovsdb.Northbound,
				ovsdb.VSwitch.Name:    ovsdb.VSwitch,
			}[db]
			if !ok {
				return fmt.Errorf("--db: unknown database %q (OVN_Southbound, OVN_Northbound or Open_vSwitch)", db)
			}
			if _, ok := spec.Tables[table]; !ok {
				return fmt.Errorf("--table: ovnbgp does not monitor %s.%s", db, table)
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			opts := ovsdb.Options{Remote: remote, TLS: tlsFiles, Logger: log}
			resynced := make(chan ovsdb.Resync, 4)
			opts.OnResync = func(r ovsdb.Resync) { resynced <- r }
			var need ovsdb.SouthboundNeed
			if chassis != "" {
				if spec.Name != ovsdb.Southbound.Name {
					return fmt.Errorf("--chassis applies to OVN_Southbound only")
				}
				need.Chassis = chassis
				opts.Conditions = ovsdb.SouthboundConditions(need)
			}
			start := time.Now()
			c, err := ovsdb.Connect(ctx, spec, opts)
			if err != nil {
				return err
			}
			defer c.Close()
			<-resynced
			if chassis != "" {
				// The chassis' own rows are selected by its Chassis row UUID.
				c.ForEach(sbdb.ChassisTable, func(uuid string, row any) bool {
					if row.(*sbdb.Chassis).Name == chassis {
						need.ChassisUUID = uuid
						return false
					}
					return true
				})
				if need.ChassisUUID == "" {
					return fmt.Errorf("--chassis: no Chassis row named %q", chassis)
				}
				c.SetConditions(ovsdb.SouthboundConditions(need))
				select {
				case <-resynced:
				case <-ctx.Done():
					return fmt.Errorf("waiting for the conditional monitor: %w", ctx.Err())
				}
			}
			elapsed := time.Since(start).Seconds()
			if showRSS {
				runtime.GC()
				fmt.Printf("rows=%d seconds=%.3f rss_kb=%d\n", c.Count(table), elapsed, peakRSSKB())
				return nil
			}
			fmt.Printf("rows=%d seconds=%.3f\n", c.Count(table), elapsed)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&remote, "remote", "", "OVSDB remote(s): unix:PATH, tcp:IP:PORT, ssl:IP:PORT, comma-separated for a cluster")
	f.StringVar(&db, "db", ovsdb.Southbound.Name, "database name")
	f.StringVar(&table, "table", sbdb.PortBindingTable, "table to count")
	f.StringVar(&chassis, "chassis", "", "apply the conditional monitoring of this chassis (southbound)")
	f.BoolVar(&showRSS, "rss", false, "also print the peak resident set size of this process (rss_kb=N)")
	f.DurationVar(&timeout, "timeout", 5*time.Minute, "give up after this long")
	f.StringVar(&tlsFiles.PrivateKey, "private-key", "", "SSL private key (ssl: remotes)")
	f.StringVar(&tlsFiles.Certificate, "certificate", "", "SSL certificate (ssl: remotes)")
	f.StringVar(&tlsFiles.CACert, "ca-cert", "", "SSL CA certificate (ssl: remotes)")
	_ = cmd.MarkFlagRequired("remote")
	debugCmd.AddCommand(cmd)
}

// peakRSSKB reads this process' peak resident set size (VmHWM).
func peakRSSKB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			f := strings.Fields(l)
			if len(f) >= 2 {
				n, _ := strconv.Atoi(f[1])
				return n
			}
		}
	}
	return -1
}
