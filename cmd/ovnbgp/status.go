package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ovnbgp/ovnbgp/internal/agent"
)

func init() {
	var cf configFlags
	var address, output string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show what the running agent announces and why, and its BGP peers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if address == "" {
				quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
				cfg, err := cf.load(quiet)
				if err != nil {
					return err
				}
				address = cfg.OVNBGP.MetricsAddress
			}
			cl := &http.Client{Timeout: 10 * time.Second}
			resp, err := cl.Get("http://" + address + "/status")
			if err != nil {
				return fmt.Errorf("is the agent running? %w", err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				return err
			}
			if output == "json" {
				_, err = os.Stdout.Write(body)
				return err
			}
			var s agent.Snapshot
			if err := json.Unmarshal(body, &s); err != nil {
				return fmt.Errorf("status from %s: %w", address, err)
			}
			printStatus(os.Stdout, &s)
			return nil
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVar(&address, "address", "", "the agent's metrics address (default: [ovnbgp] metrics_address of the configuration)")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	rootCmd.AddCommand(cmd)
}

func printStatus(w io.Writer, s *agent.Snapshot) {
	fmt.Fprintf(w, "chassis %s (hostname %s), driver %s, ready %v, last full reconcile %s\n",
		safe(s.Chassis), safe(s.Hostname), s.Driver, s.Ready, s.LastFull.Format(time.RFC3339))
	fmt.Fprintf(w, "OVN database %s (generation %d), local OVS %s\n", safe(s.OVN.Endpoint), s.OVN.Generation, safe(s.OVS.Endpoint))
	if s.LastError != "" {
		fmt.Fprintf(w, "last error (%s): %s\n", s.LastErrAt.Format(time.RFC3339), safe(s.LastError))
	}
	for _, x := range s.Warnings {
		fmt.Fprintln(w, "warning:", safe(x))
	}
	if sp := s.Speaker; sp != nil {
		fmt.Fprintf(w, "\nspeaker %s, AS %d, router-id %s, %d prefixes advertised, %d restarts repaired\n",
			sp.Speaker, sp.AS, safe(sp.RouterID), len(sp.Prefixes), sp.Restarts)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PEER\tAS\tSTATE\tUPTIME\tSENT\tRECEIVED\tBFD")
		for _, p := range sp.Peers {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%d\t%s\n", safe(p.Address), p.RemoteAS, safe(p.State), p.Uptime.Round(time.Second),
				p.PrefixesSent, p.PrefixesRecvd, dash(p.BFD))
		}
		tw.Flush()
	} else if s.SpeakerErr != "" {
		fmt.Fprintln(w, "speaker:", safe(s.SpeakerErr))
	}
	if len(s.VIPs) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VIP	ADDRESS	MODE	STATE	REASON	HEALTH	PRESENT	CHECK	LAST	LATENCY	TRANSITIONS")
		for _, v := range s.VIPs {
			last := "-"
			if !v.Last.At.IsZero() {
				last = "pass"
				if !v.Last.OK {
					last = "fail: " + v.Last.Error
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%v\t%s\t%s\t%s\t%d\n", safe(v.Name), v.Address, v.Mode, v.State, dash(v.Reason),
				v.Health, v.Present, v.Check, safe(last), v.Last.Latency.Round(time.Microsecond), v.Transitions)
		}
		tw.Flush()
	}
	if s.State != nil {
		fmt.Fprintln(w)
		printPlanTable(w, s.State)
	}
}
