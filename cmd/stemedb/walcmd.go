package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/stemedb/stemedb/node"
	"github.com/stemedb/stemedb/wal"
)

// WALCommand inspects and repairs the write-ahead log offline:
// `stemedb wal verify|dump|repair --data-dir DIR`.
type WALCommand struct {
	Main *Main
}

// Summary implements command.
func (c *WALCommand) Summary() string { return "verify, dump or repair the write-ahead log" }

// Run implements command: it dispatches to the subcommand named by args[0].
func (c *WALCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		c.usage()
		return flag.ErrHelp
	}
	switch args[0] {
	case "verify":
		return c.verify(ctx, args[1:])
	case "dump":
		return c.dump(ctx, args[1:])
	case "repair":
		return c.repair(ctx, args[1:])
	default:
		c.usage()
		return fmt.Errorf("wal: unknown subcommand %q", args[0])
	}
}

func (c *WALCommand) usage() {
	fmt.Fprint(c.Main.Stderr, `Usage: stemedb wal <verify|dump|repair> --data-dir DIR [flags]

Inspects the write-ahead log in DIR/wal without a running server.

  verify   check every record (length, CRC-32C, BLAKE3) and print counts and offsets
  dump     print one line per record: offset, length, first 32 payload bytes in hex
  repair   cut the log at its first corrupt record, keeping a copy of what is cut

Example:
  stemedb wal verify --data-dir ./data
  stemedb wal dump --data-dir ./data --from 0 --limit 20

Run `+"`stemedb wal <subcommand> --help`"+` for its flags.
`)
}

// flags returns a FlagSet for one subcommand with the --data-dir flag every one has.
func (c *WALCommand) flags(name, usage string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("stemedb wal "+name, flag.ContinueOnError)
	fs.SetOutput(c.Main.Stderr)
	dataDir := fs.String("data-dir", node.DefaultDataDir, "the server's data directory; the log is in its wal/ folder")
	fs.Usage = func() {
		fmt.Fprint(c.Main.Stderr, usage+"\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs, dataDir
}

// walDir returns DIR/wal and checks that it exists, so that a typo in --data-dir is
// reported as such rather than as an empty log.
func walDir(dataDir string) (string, error) {
	dir := filepath.Join(dataDir, "wal")
	fi, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("no log at %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("no log at %s: not a directory", dir)
	}
	return dir, nil
}

func (c *WALCommand) verify(ctx context.Context, args []string) error {
	fs, dataDir := c.flags("verify", `Usage: stemedb wal verify [--data-dir DIR]

Reads every record of the log and checks its length, CRC-32C and BLAKE3 hash. It
takes no lock and writes nothing, so it can run beside a server (the record being
written then shows as a tail). Exits non-zero at the first corrupt record, naming
its file and offset.

Example:
  stemedb wal verify --data-dir ./data
`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := walDir(*dataDir)
	if err != nil {
		return err
	}
	res, verr := wal.Verify(ctx, dir, wal.Options{})
	w := c.Main.Stdout
	fmt.Fprintf(w, "log:      %s\n", dir)
	fmt.Fprintf(w, "segments: %d\n", res.Segments)
	fmt.Fprintf(w, "records:  %d\n", res.Records)
	fmt.Fprintf(w, "first:    %d\n", res.First)
	if res.Records > 0 {
		fmt.Fprintf(w, "last:     %d\n", res.Last)
	}
	fmt.Fprintf(w, "end:      %d\n", res.End)
	fmt.Fprintf(w, "bytes:    %d\n", res.Bytes)
	if t := res.Tail; t != nil {
		fmt.Fprintf(w, "tail:     %d bytes at offset %d in %s after the last valid record (%s); the next open truncates them\n",
			t.Bytes, t.Offset, t.Segment, t.Reason)
	}
	if verr != nil {
		var ce *wal.CorruptError
		if errors.As(verr, &ce) {
			fmt.Fprintf(w, "status:   CORRUPT at offset %d in %s: %s\n", ce.Offset, ce.Path, ce.Reason)
			return fmt.Errorf("%w\n(counts above are up to the damage; `stemedb wal repair --data-dir %s` cuts the log there, keeping a copy)", verr, *dataDir)
		}
		return verr
	}
	fmt.Fprintln(w, "status:   ok")
	return nil
}

func (c *WALCommand) dump(ctx context.Context, args []string) error {
	fs, dataDir := c.flags("dump", `Usage: stemedb wal dump [--data-dir DIR] [--from OFFSET] [--limit N]

Prints one line per record, tab-separated: its offset, its payload length and the
first 32 payload bytes in hex ("..." when there are more). Starts at the first record
at or after --from.

Example:
  stemedb wal dump --data-dir ./data --from 4096 --limit 10
`)
	from := fs.Uint64("from", 0, "start at the first record at or after this offset")
	limit := fs.Int("limit", 0, "print at most this many records (0: all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *limit < 0 {
		return fmt.Errorf("wal dump: --limit %d is negative", *limit)
	}
	dir, err := walDir(*dataDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Main.Stdout, "# offset\tlength\tpayload (first %d bytes, hex)\n", wal.DumpPrefix)
	return wal.Dump(ctx, dir, c.Main.Stdout, *from, *limit, wal.Options{})
}

func (c *WALCommand) repair(ctx context.Context, args []string) error {
	fs, dataDir := c.flags("repair", `Usage: stemedb wal repair [--data-dir DIR]

Cuts the log at its first corrupt record. The bytes cut from that segment are kept
in <segment>.broken-<offset>, and every later segment is moved (not deleted) to
wal/quarantine-<offset>/. The server must be stopped (the log is locked while it
runs). Afterwards the log ends at the damage; rebuild the SQLite views if they had
read past it.

Example:
  stemedb wal verify --data-dir ./data   # see what is wrong first
  stemedb wal repair --data-dir ./data
`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := walDir(*dataDir)
	if err != nil {
		return err
	}
	res, err := wal.Repair(ctx, dir, wal.Options{})
	if err != nil {
		return err
	}
	printRepair(c.Main.Stdout, res)
	return nil
}

func printRepair(w io.Writer, res wal.RepairResult) {
	if !res.Cut {
		fmt.Fprintf(w, "nothing to repair: every record checks out; the log ends at %d\n", res.End)
		return
	}
	fmt.Fprintf(w, "cut %s at offset %d: %s\n", res.Segment, res.Offset, res.Reason)
	if res.Broken != "" {
		fmt.Fprintf(w, "the cut bytes are kept in %s\n", res.Broken)
	}
	if res.Quarantine != "" {
		fmt.Fprintf(w, "%d later segment(s) moved to %s\n", len(res.Quarantined), res.Quarantine)
	}
	fmt.Fprintf(w, "the log now ends at %d\n", res.End)
}
