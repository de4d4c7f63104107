// Package sdktest helps lens authors test a lens on their own machine: run a rule
// natively through the real ABI encoding, build a lens package into a module, and run a
// module's lens through the real host with its validation and limits.
package sdktest
