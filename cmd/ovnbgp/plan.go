package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/ovnbgp/ovnbgp/internal/agent"
	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/plan"
)

func init() {
	var cf configFlags
	var chassis, hostname, output string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Print what this chassis would announce and how it would be wired, touching nothing",
		Long: `Connects to the local Open_vSwitch database and to the OVN database of the
configured driver exactly as the agent does, computes the desired state and
prints it: the announcements (prefix, kind, port, network, VRF, reason) and
the wiring. With exposing_method = dynamic: the dynamic-routing VRFs this
chassis serves (name, table, who creates the device, router, ports,
routing interfaces) and the FRR configuration ovnbgp renders for them.
Nothing on the host is changed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return usageError{fmt.Errorf("-o: want table or json, not %q", output)}
			}
			quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			cfg, err := cf.load(quiet)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			id := agent.Identity{SystemID: chassis, Hostname: hostname, Overrides: chassis != "" || hostname != ""}
			if id.Overrides && id.Hostname == "" {
				id.Hostname = chassis
			}
			resolveEVPNLocalIP(cfg, quiet)
			src := agent.NewSource(cfg, quiet, id)
			defer src.Close()
			if err := src.Start(ctx); err != nil {
				return err
			}
			if cfg.ExposingMethod == config.ExposingDynamic {
				return planDynamic(cfg, src, output)
			}
			p, need, _ := newPlanner(cfg, src)
			if need != nil {
				err := agent.Settle(ctx, src, func() []string {
					src.Topo.RLock()
					defer src.Topo.RUnlock()
					p.Full()
					return need()
				})
				if err != nil {
					return err
				}
			}
			src.Topo.RLock()
			st, warnings := p.Full()
			src.Topo.RUnlock()
			for _, w := range warnings {
				fmt.Fprintln(os.Stderr, "warning:", w.String())
			}
			if output == "json" {
				return printPlanJSON(os.Stdout, st)
			}
			printPlanTable(os.Stdout, st)
			return nil
		},
	}
	cf.add(cmd)
	f := cmd.Flags()
	f.StringVar(&chassis, "chassis", "", "plan as this chassis (system-id) instead of the local one")
	f.StringVar(&hostname, "hostname", "", "with the northbound driver: the chassis' hostname (default: --chassis)")
	f.StringVarP(&output, "output", "o", "table", "output format: table or json")
	f.DurationVar(&timeout, "timeout", 2*time.Minute, "give up after this long")
	rootCmd.AddCommand(cmd)
}

// usageError exits with status 2.
type usageError struct{ error }

func (usageError) ExitCode() int { return 2 }

func printPlanJSON(w io.Writer, st *plan.State) error {
	if st.Announcements == nil {
		st.Announcements = []plan.Announcement{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(st)
}

func printPlanTable(w io.Writer, st *plan.State) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "chassis %s: %d announcements\n", safe(st.Chassis), len(st.Announcements))
	fmt.Fprintln(tw, "PREFIX\tKIND\tPORT\tNETWORK\tVRF\tVNI\tWIRING\tREASON")
	exp := map[plan.Key]plan.Exposure{}
	for _, e := range st.Wiring.Exposures {
		exp[e.Key()] = e
	}
	for _, a := range st.Announcements {
		vni := "-"
		if v, ok := st.VRFByName(a.VRF); ok && v.VNI != 0 {
			vni = fmt.Sprint(v.VNI)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Prefix, a.Kind, safe(a.Port), dash(a.Network), dash(a.VRF), vni,
			describeExposure(exp[a.Key()]), safe(a.Reason))
	}
	tw.Flush()
	if len(st.Wiring.VRFs) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VRF\tVNI\tTABLE\tRD\tIMPORT RT\tEXPORT RT\tNETWORK\tPORTS")
		for _, v := range st.Wiring.VRFs {
			var ports []string
			for _, p := range v.Ports {
				ports = append(ports, fmt.Sprintf("%s/%d", p.Bridge, p.VLAN))
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", safe(v.Name), v.VNI, v.Table, dash(v.RD), dash(strings.Join(v.ImportRT, ",")),
				dash(strings.Join(v.ExportRT, ",")), dash(v.Network), dash(strings.Join(ports, ",")))
		}
		tw.Flush()
	}
	if len(st.Wiring.Bridges) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "BRIDGE\tPHYSNET\tINDEX\tVLANS")
		for _, b := range st.Wiring.Bridges {
			var vl []string
			for _, v := range b.VLANs {
				vl = append(vl, fmt.Sprint(v))
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", safe(b.Bridge), safe(b.Physnet), b.Index, dash(strings.Join(vl, ",")))
		}
		tw.Flush()
	}
	if len(st.Wiring.Flows) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "FLOW BRIDGE\tPATCH PORT\tOFPORT\tDST MAC")
		for _, f := range st.Wiring.Flows {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", safe(f.Bridge), safe(f.Port), f.OFPort, safe(f.DstMAC))
		}
		tw.Flush()
	}
}

func describeExposure(e plan.Exposure) string {
	if e.Bridge == "" {
		return "-"
	}
	s := safe(e.Bridge)
	if e.VLAN != 0 {
		s += fmt.Sprintf(" vlan %d", e.VLAN)
	}
	if e.Via.IsValid() {
		s += " via " + e.Via.String()
	}
	if e.MAC != "" {
		s += " lladdr " + safe(e.MAC)
	}
	if len(e.ProxyNDP) > 0 {
		s += fmt.Sprintf(" ndp-proxy %v", e.ProxyNDP)
	}
	return s
}

// dash is safe(s), or "-" for an empty s.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return safe(s)
}

// safe returns a name from OVSDB (or a text that quotes one) fit for a
// terminal: as it is when every character is printable, otherwise quoted
// (strconv.Quote), so that a tenant's name cannot carry terminal escapes,
// line breaks or tabs (a tab would shift the table's columns).
func safe(s string) string {
	for _, r := range s {
		if r == '\t' || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}
