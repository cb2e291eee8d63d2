package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/ovnbgp/ovnbgp/internal/config"
	"github.com/ovnbgp/ovnbgp/internal/doctor"
)

// cannotStart is the exit status 1 of a doctor run with a failure; the
// lines said what failed.
type cannotStart struct{}

func (cannotStart) Error() string {
	return "doctor: the agent cannot start here with this configuration"
}
func (cannotStart) ExitCode() int { return 1 }

func init() {
	var cf configFlags
	var output string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check, read-only, whether this host can run the agent with this configuration",
		Long: `Checks every prerequisite the configuration implies on this host, without
changing anything: the local Open_vSwitch database (identity, bridge
mappings) and the OVN database of the driver (reachable, a schema ovnbgp
reads, the chassis registered), the bridges, the kernel features of the
announce method, forwarding sysctls, FRR (version, daemons, a BGP instance of
another AS) or the embedded speaker's port, upstream's agent or another BGP
speaker in this network namespace, the metrics address and the state
directory. Each finding is a line ok, warn or FAIL with its fix.

Exit status: 0 the agent can start (warnings allowed), 1 it cannot (or
would run unable to do its job), 2 the configuration itself is invalid.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return usageError{fmt.Errorf("-o: want table or json, not %q", output)}
			}
			files, dirs := cf.paths()
			cfg, warnings, err := config.Load(files, dirs)
			if err != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "FAIL  config  %v\n", err)
				return err
			}
			rs := doctor.Run(cmd.Context(), &doctor.Env{Config: cfg, ConfigWarnings: warnings, Timeout: timeout})
			if output == "json" {
				err = doctor.WriteJSON(cmd.OutOrStdout(), rs)
			} else {
				err = doctor.Write(cmd.OutOrStdout(), rs)
			}
			if err != nil {
				return err
			}
			if !doctor.CanStart(rs) {
				return cannotStart{}
			}
			return nil
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "bound of each OVSDB connection")
	cmd.SetOut(os.Stdout)
	rootCmd.AddCommand(cmd)
}
