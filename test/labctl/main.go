// Command labctl manages test labs that outlive their test: `labctl down`
// removes every kept lab (the `make demo` lab) with its namespaces and
// daemons.
package main

import (
	"fmt"
	"os"

	"github.com/ovnbgp/ovnbgp/test/lab"
)

func main() {
	if len(os.Args) != 2 || os.Args[1] != "down" {
		fmt.Fprintln(os.Stderr, "usage: labctl down")
		os.Exit(2)
	}
	gone := lab.DestroyKept()
	if len(gone) == 0 {
		fmt.Println("no kept lab to remove")
		return
	}
	fmt.Println("removed:", gone)
}
