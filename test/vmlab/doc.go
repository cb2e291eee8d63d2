// Package vmlab holds the full-kernel lab: run.sh boots a stock Debian
// kernel under QEMU and runs the `vmlab`-tagged tests of Go packages inside
// it (see scripts/test-vm.sh, `make test-vm`). The tests of this package
// prove the guest has what the host kernel lacks.
package vmlab
