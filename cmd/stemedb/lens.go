package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/peterbourgon/ff/v3"

	"github.com/stemedb/stemedb/api"
	"github.com/stemedb/stemedb/client"
	"github.com/stemedb/stemedb/node"
)

// LensCommand manages lenses: upload a module, list and show lenses, remove an upload,
// and dry-run a module over stored or given groups before it goes live.
type LensCommand struct {
	Main *Main
}

// Summary implements command.
func (c *LensCommand) Summary() string {
	return "upload, list, show, remove and dry-run lens modules"
}

const lensUsage = `Usage: stemedb lens <upload|list|show|rm|test> [flags] [args]

Manages the server's lenses (API.md §5). upload, rm and test need the admin token:
--admin-token (env STEMEDB_ADMIN_TOKEN), or --data-dir to read the token file the
server generated there (<data-dir>/admin.token).

  upload --name NAME [--materialized=false] MODULE.wasm   install a module as a lens
  list                                                     every lens in service
  show NAME                                                one lens with its history
  rm NAME                                                  take an upload out of service
  test [--lens L] [--subject S] [--predicate P] [--groups FILE] MODULE.wasm
                                                           dry run next to the default lens

Run "stemedb lens <subcommand> --help" for its flags and an example.
`

// Run implements command.
func (c *LensCommand) Run(ctx context.Context, args []string) error {
	subs := map[string]func(context.Context, []string) error{
		"upload": c.upload, "list": c.list, "show": c.show, "rm": c.rm, "test": c.test,
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(c.Main.Stderr, lensUsage)
		if len(args) == 0 {
			return flag.ErrHelp
		}
		return nil
	}
	sub, ok := subs[args[0]]
	if !ok {
		fmt.Fprint(c.Main.Stderr, lensUsage)
		return fmt.Errorf("unknown lens subcommand %q", args[0])
	}
	return sub(ctx, args[1:])
}

// lensFlags are the flags every lens subcommand shares.
type lensFlags struct {
	server     string
	adminToken string
	dataDir    string
}

func (f *lensFlags) register(fs *flag.FlagSet, admin bool) {
	fs.StringVar(&f.server, "server", client.DefaultServer, "the server's base URL (env STEMEDB_SERVER)")
	if admin {
		fs.StringVar(&f.adminToken, "admin-token", "", "the server's admin token (env STEMEDB_ADMIN_TOKEN)")
		fs.StringVar(&f.dataDir, "data-dir", "", "read the admin token the server generated in this data directory")
	}
}

// client returns a client for the server, with the admin token when admin is set.
func (f *lensFlags) client(admin bool) (*client.Client, error) {
	cl := client.New(f.server, nil)
	if !admin {
		return cl, nil
	}
	token := f.adminToken
	if token == "" && f.dataDir != "" {
		b, err := os.ReadFile(filepath.Join(f.dataDir, node.AdminTokenFile))
		if err != nil {
			return nil, fmt.Errorf("read admin token: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	if token == "" {
		return nil, errors.New("this needs the admin token: --admin-token, STEMEDB_ADMIN_TOKEN, or --data-dir of the server")
	}
	return cl.WithAdminToken(token), nil
}

// parseLensFlags parses flags and positional arguments in any order (`upload m.wasm
// --name X` works as well as `upload --name X m.wasm`), with STEMEDB_* environment
// fallbacks, and checks the number of positional arguments.
func parseLensFlags(fs *flag.FlagSet, args []string, positional int) ([]string, error) {
	if err := ff.Parse(fs, args, ff.WithEnvVarPrefix("STEMEDB")); err != nil {
		return nil, err
	}
	var pos []string
	for fs.NArg() > 0 {
		pos = append(pos, fs.Arg(0))
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return nil, err
		}
	}
	if len(pos) != positional {
		fs.Usage()
		return nil, fmt.Errorf("want %d argument(s), got %d: %s", positional, len(pos), strings.Join(pos, " "))
	}
	return pos, nil
}

func (c *LensCommand) upload(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("stemedb lens upload", flag.ContinueOnError)
	fs.SetOutput(c.Main.Stderr)
	var lf lensFlags
	lf.register(fs, true)
	name := fs.String("name", "", "the lens's name, [A-Za-z][A-Za-z0-9_-]{0,63} (default: the file's base name)")
	materialized := fs.Bool("materialized", true, "keep the lens's winners in `resolved` (false: compute them per query)")
	fs.Usage = usage(c.Main, fs, `Usage: stemedb lens upload [--name NAME] [--materialized=false] MODULE.wasm

Uploads a lens module (POST /v1/lenses). The server validates it first and answers
invalid_module with the reason if it is refused; otherwise the lens is live at once,
and a materialized lens is backfilled over every stored group in the background
(progress: stemedb lens show NAME). Uploading a name again makes a new version.

Example:
  stemedb lens upload --data-dir ./data --name Median median.wasm
`)
	pos, err := parseLensFlags(fs, args, 1)
	if err != nil {
		return err
	}
	wasm, err := os.ReadFile(pos[0])
	if err != nil {
		return fmt.Errorf("read module: %w", err)
	}
	if *name == "" {
		*name = strings.TrimSuffix(filepath.Base(pos[0]), filepath.Ext(pos[0]))
	}
	cl, err := lf.client(true)
	if err != nil {
		return err
	}
	params := url.Values{"name": {*name}, "materialized": {strconv.FormatBool(*materialized)}}
	var res api.Lens
	if err := cl.Do(ctx, http.MethodPost, "/v1/lenses", params, "application/wasm", wasm, &res); err != nil {
		return err
	}
	return printAnswer(c.Main, res)
}

func (c *LensCommand) list(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("stemedb lens list", flag.ContinueOnError)
	fs.SetOutput(c.Main.Stderr)
	var lf lensFlags
	lf.register(fs, false)
	asJSON := fs.Bool("json", false, "print the server's JSON answer instead of a table")
	fs.Usage = usage(c.Main, fs, `Usage: stemedb lens list [--json]

Lists the lenses in service (GET /v1/lenses): the built-ins, then the uploads.
SERVING says where queries are answered from: resolved (materialized rows) or on_the_fly.

Example:
  stemedb lens list --server http://127.0.0.1:7070
`)
	if _, err := parseLensFlags(fs, args, 0); err != nil {
		return err
	}
	cl, _ := lf.client(false)
	var res api.LensList
	if err := cl.Get(ctx, "/v1/lenses", nil, &res); err != nil {
		return err
	}
	if *asJSON {
		return printAnswer(c.Main, res)
	}
	tw := tabwriter.NewWriter(c.Main.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tBUILTIN\tMATERIALIZED\tSTATE\tSERVING\tHASH")
	for _, l := range res.Lenses {
		fmt.Fprintf(tw, "%s\t%d\t%t\t%t\t%s\t%s\t%.12s\n", l.Name, l.Version, l.BuiltIn, l.Materialized, l.State, l.Serving, l.Hash)
	}
	return tw.Flush()
}

func (c *LensCommand) show(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("stemedb lens show", flag.ContinueOnError)
	fs.SetOutput(c.Main.Stderr)
	var lf lensFlags
	lf.register(fs, false)
	fs.Usage = usage(c.Main, fs, `Usage: stemedb lens show NAME

Shows one lens (GET /v1/lenses/NAME): its live version, state and failures, where its
queries are answered from, its backfill's progress, and every version it had.

Example:
  stemedb lens show Median
`)
	pos, err := parseLensFlags(fs, args, 1)
	if err != nil {
		return err
	}
	cl, _ := lf.client(false)
	var res api.Lens
	if err := cl.Get(ctx, "/v1/lenses/"+url.PathEscape(pos[0]), nil, &res); err != nil {
		return err
	}
	return printAnswer(c.Main, res)
}

func (c *LensCommand) rm(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("stemedb lens rm", flag.ContinueOnError)
	fs.SetOutput(c.Main.Stderr)
	var lf lensFlags
	lf.register(fs, true)
	fs.Usage = usage(c.Main, fs, `Usage: stemedb lens rm NAME

Takes an uploaded lens out of service (DELETE /v1/lenses/NAME): queries through it
answer not_found and its rows leave `+"`resolved`"+`. Its history is kept; uploading the
name again continues it. Built-in lenses cannot be removed (conflict).

Example:
  stemedb lens rm --data-dir ./data Median
`)
	pos, err := parseLensFlags(fs, args, 1)
	if err != nil {
		return err
	}
	cl, err := lf.client(true)
	if err != nil {
		return err
	}
	if err := cl.Do(ctx, http.MethodDelete, "/v1/lenses/"+url.PathEscape(pos[0]), nil, "", nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(c.Main.Stdout, "removed %s\n", pos[0])
	return nil
}

func (c *LensCommand) test(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("stemedb lens test", flag.ContinueOnError)
	fs.SetOutput(c.Main.Stderr)
	var lf lensFlags
	lf.register(fs, true)
	lens := fs.String("lens", "", "which lens of the module to run (default: its only one)")
	subject := fs.String("subject", "", "run over the stored groups of this subject")
	predicate := fs.String("predicate", "", "run over the stored groups of this predicate")
	limit := fs.Int("limit", 0, "stored groups to run over, 1..1000 (default 100)")
	compare := fs.String("compare", "", "the lens to compare with (default: the server's default lens)")
	groups := fs.String("groups", "", "a JSON file of groups to run over instead of stored ones")
	fs.Usage = usage(c.Main, fs, `Usage: stemedb lens test [--lens L] (--subject S | --predicate P | --groups FILE) MODULE.wasm

Dry-runs a module without installing it (POST /v1/lenses/test): runs its lens over
stored groups (by subject and/or predicate) or over groups from a JSON file, and prints
its winners next to the comparison lens's for each group, with the count that differ.

The groups file holds {"groups": [{"subject", "predicate", "candidates": [{"object":
{"type", "value"}, "confidence", "signers": [{"agent_id", "timestamp", "trust"?}],
"votes"?: {"up", "down"}, "hash"?}]}]}.

Example:
  stemedb lens test --data-dir ./data --predicate price median.wasm
  stemedb lens test --data-dir ./data --groups groups.json --compare Consensus median.wasm
`)
	pos, err := parseLensFlags(fs, args, 1)
	if err != nil {
		return err
	}
	wasm, err := os.ReadFile(pos[0])
	if err != nil {
		return fmt.Errorf("read module: %w", err)
	}
	params := url.Values{}
	for k, v := range map[string]string{"lens": *lens, "subject": *subject, "predicate": *predicate, "compare": *compare} {
		if v != "" {
			params.Set(k, v)
		}
	}
	if *limit != 0 {
		params.Set("limit", strconv.Itoa(*limit))
	}
	body, contentType := wasm, "application/wasm"
	if *groups != "" {
		gj, err := os.ReadFile(*groups)
		if err != nil {
			return fmt.Errorf("read groups: %w", err)
		}
		if body, contentType, err = moduleAndGroups(wasm, gj); err != nil {
			return err
		}
	}
	cl, err := lf.client(true)
	if err != nil {
		return err
	}
	var res api.LensTestResult
	if err := cl.Do(ctx, http.MethodPost, "/v1/lenses/test", params, contentType, body, &res); err != nil {
		return err
	}
	if err := printAnswer(c.Main, res); err != nil {
		return err
	}
	fmt.Fprintf(c.Main.Stderr, "%d groups, %d differ from %s\n", res.Groups, res.Differ, res.Compare)
	return nil
}

// moduleAndGroups is the multipart body of a dry run with groups.
func moduleAndGroups(wasm, groups []byte) ([]byte, string, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range []struct {
		name, file string
		data       []byte
	}{{"module", "module.wasm", wasm}, {"groups", "groups.json", groups}} {
		w, err := mw.CreateFormFile(p.name, p.file)
		if err != nil {
			return nil, "", fmt.Errorf("build request: %w", err)
		}
		if _, err := w.Write(p.data); err != nil {
			return nil, "", fmt.Errorf("build request: %w", err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, "", fmt.Errorf("build request: %w", err)
	}
	return buf.Bytes(), mw.FormDataContentType(), nil
}
