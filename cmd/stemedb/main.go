// Command stemedb runs the StemeDB server and its command-line tools.
//
// main only wires signals and maps the result of Main.Run to an exit code; each
// subcommand lives in its own file as a type with a Run(ctx, args) method.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain(os.Stdin, os.Stdout, os.Stderr)
	if err := m.Run(ctx, os.Args[1:]); err != nil {
		switch {
		case errors.Is(err, errUsage):
			os.Exit(2)
		case errors.Is(err, flag.ErrHelp): // --help was asked for and shown
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "stemedb:", err)
		os.Exit(1)
	}
}

// errUsage is returned when stemedb runs with no command: the usage was printed.
var errUsage = errors.New("no command given")

// command is one subcommand of stemedb.
type command interface {
	// Run parses args (everything after the subcommand's name) and runs it.
	Run(ctx context.Context, args []string) error
	// Summary is the one-line description shown by `stemedb help`.
	Summary() string
}

// Main holds the process's standard streams so that tests can run commands in-process.
type Main struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// NewMain returns a Main bound to the given streams.
func NewMain(stdin io.Reader, stdout, stderr io.Writer) *Main {
	return &Main{Stdin: stdin, Stdout: stdout, Stderr: stderr}
}

// commands lists the subcommands by name; each file adds its own entry here.
func (m *Main) commands() map[string]command {
	return map[string]command{
		"serve":   &ServeCommand{Main: m},
		"keygen":  &KeygenCommand{Main: m},
		"assert":  &AssertCommand{Main: m},
		"vote":    &VoteCommand{Main: m},
		"retract": &RetractCommand{Main: m},
		"query":   &QueryCommand{Main: m},
		"status":  &StatusCommand{Main: m},
		"wal":     &WALCommand{Main: m},
		"lens":    &LensCommand{Main: m},
		"sql":     &SQLCommand{Main: m},
	}
}

// Run dispatches args[0] to its subcommand.
func (m *Main) Run(ctx context.Context, args []string) error {
	cmds := m.commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		m.usage(cmds)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		m.usage(cmds)
		return fmt.Errorf("unknown command %q", args[0])
	}
	return cmd.Run(ctx, args[1:])
}

func (m *Main) usage(cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for name := range cmds {
		names = append(names, name)
	}
	sort.Strings(names)
	fmt.Fprintln(m.Stderr, "StemeDB: a database of signed claims.\n\nUsage:\n  stemedb <command> [flags]\n\nCommands:")
	for _, name := range names {
		fmt.Fprintf(m.Stderr, "  %-10s %s\n", name, cmds[name].Summary())
	}
	fmt.Fprintln(m.Stderr, "\nRun `stemedb <command> --help` for a command's flags and an example.")
}
