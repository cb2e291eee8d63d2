// Command ovnbgp announces OpenStack/OVN workloads to a BGP fabric and wires
// the chassis so the announced traffic arrives. See README.md.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// rootCmd is the `ovnbgp` command; every subcommand adds itself in an init
// function of its own file.
var rootCmd = &cobra.Command{
	Use:           "ovnbgp",
	Short:         "BGP agent for OpenStack clouds on OVN",
	SilenceUsage:  true,
	SilenceErrors: true,
}

// debugCmd groups commands that exercise one component from the outside.
var debugCmd = &cobra.Command{
	Use:   "debug",
	Short: "Commands that exercise one component of ovnbgp from the outside",
}

func init() {
	rootCmd.AddCommand(debugCmd)
}

func main() {
	if err := rootCmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "ovnbgp:", err)
		var code interface{ ExitCode() int }
		if errors.As(err, &code) {
			os.Exit(code.ExitCode())
		}
		os.Exit(1)
	}
}
