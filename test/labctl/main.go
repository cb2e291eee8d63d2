// Command labctl manages test labs that outlive their test (`make demo`'s,
// tag "demo", and those OVNBGP_LAB_KEEP=1 keeps after a failure, tag
// "inspect"):
//
//	labctl list                     the kept labs: prefix, tag, directory
//	labctl down demo|inspect|all    remove the kept labs with that tag (or all)
//	labctl down <prefix>            remove one kept lab
//
// Every removal names what it removed, and `down` lists the kept labs it
// left alone.
package main

import (
	"fmt"
	"os"

	"github.com/ovnbgp/ovnbgp/test/lab"
)

func main() {
	switch {
	case len(os.Args) == 2 && os.Args[1] == "list":
		list(lab.ListKept(), "kept labs:", "no kept lab")
	case len(os.Args) == 3 && os.Args[1] == "down":
		gone := lab.DestroyKept(os.Args[2])
		list(gone, "removed:", "no kept lab matches "+os.Args[2]+", nothing removed")
		if left := lab.ListKept(); len(left) > 0 {
			list(left, "left alone (remove with `go run ./test/labctl down <prefix>`):", "")
		}
	default:
		fmt.Fprintln(os.Stderr, "usage: labctl list | labctl down demo|inspect|all|<prefix>")
		os.Exit(2)
	}
}

func list(labs []lab.KeptLab, title, none string) {
	if len(labs) == 0 {
		fmt.Println(none)
		return
	}
	fmt.Println(title)
	for _, k := range labs {
		fmt.Printf("  %s  %-8s %s\n", k.Prefix, k.Tag, k.Dir)
	}
}
