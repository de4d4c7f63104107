// Package sdk is the guest side of the StemeDB lens ABI v1: what a lens written in Go imports.
//
// A lens author writes a rule func(*Group) []int, registers it under a name in an init
// function, and builds the package as a WASI reactor:
//
//	func init() { sdk.Register("Median", median) }
//	func main() {}
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o median.wasm .
//
// The package decodes the host's binary batch into Groups, calls the rule once per group,
// checks and encodes the winners, and ends every export with runtime.Gosched so that the
// Go runtime's garbage collector gets to run. The wire format is specified in
// lenses-wasm/README.md; the decoding and encoding here carry no build tags so that they
// can be tested natively, and only exports_wasip1.go is tied to the wasm target.
package sdk
