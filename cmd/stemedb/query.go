package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"strconv"

	"github.com/peterbourgon/ff/v3"

	"github.com/stemedb/stemedb/api"
	"github.com/stemedb/stemedb/client"
)

// QueryCommand reads what a lens chose for a subject and/or predicate.
type QueryCommand struct {
	Main *Main
}

// Summary implements command.
func (c *QueryCommand) Summary() string {
	return "show what a lens chose for a subject and/or predicate"
}

// Run implements command.
func (c *QueryCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("stemedb query", flag.ContinueOnError)
	fs.SetOutput(c.Main.Stderr)
	server := fs.String("server", client.DefaultServer, "the server's base URL (env STEMEDB_SERVER)")
	subject := fs.String("subject", "", "the subject to read")
	predicate := fs.String("predicate", "", "the predicate to read")
	lens := fs.String("lens", "", "the lens (default: the server's, VoteAwareConsensus)")
	limit := fs.Int("limit", 0, "winners per page, 1..1000 (default 100)")
	cursor := fs.String("cursor", "", "continue from a previous answer's next_cursor")
	minOffset := fs.Uint64("min-offset", 0, "wait until the views include this log offset (a write's offset)")
	waitMS := fs.Int("wait-ms", -1, "how long to wait for --min-offset, 0..10000 (default 1000)")
	all := fs.Bool("all", false, "follow next_cursor and print every page")
	fs.Usage = usage(c.Main, fs, `Usage: stemedb query --subject S [--predicate P] [--lens L] [flags]

Reads GET /v1/query and prints the answer as JSON: the winners the lens chose for each
matching (subject, predicate), with their signatures and votes.

Example:
  stemedb query --subject Tesla_Inc --lens Consensus
  stemedb query --predicate has_revenue --lens Latest --all
`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	params := url.Values{}
	set := func(name, v string) {
		if v != "" {
			params.Set(name, v)
		}
	}
	set("subject", *subject)
	set("predicate", *predicate)
	set("lens", *lens)
	set("cursor", *cursor)
	if *limit != 0 {
		params.Set("limit", strconv.Itoa(*limit))
	}
	if *minOffset != 0 {
		params.Set("min_offset", strconv.FormatUint(*minOffset, 10))
	}
	if *waitMS >= 0 {
		params.Set("wait_ms", strconv.Itoa(*waitMS))
	}
	cl := client.New(*server, nil)
	for {
		var res api.QueryResult
		if err := cl.Get(ctx, "/v1/query", params, &res); err != nil {
			return err
		}
		if err := printAnswer(c.Main, res); err != nil {
			return err
		}
		if !*all || res.NextCursor == nil {
			return nil
		}
		params.Set("cursor", *res.NextCursor)
	}
}

// StatusCommand prints the server's status.
type StatusCommand struct {
	Main *Main
}

// Summary implements command.
func (c *StatusCommand) Summary() string { return "show the server's offsets, counts and lenses" }

// Run implements command.
func (c *StatusCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("stemedb status", flag.ContinueOnError)
	fs.SetOutput(c.Main.Stderr)
	server := fs.String("server", client.DefaultServer, "the server's base URL (env STEMEDB_SERVER)")
	fs.Usage = usage(c.Main, fs, `Usage: stemedb status [--server URL]

Prints GET /v1/status: the log, ingested and materialized offsets, counts and lenses.

Example:
  stemedb status --server http://127.0.0.1:7070
`)
	if err := ff.Parse(fs, args, ff.WithEnvVarPrefix("STEMEDB")); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	var st api.Status
	if err := client.New(*server, nil).Get(ctx, "/v1/status", nil, &st); err != nil {
		return err
	}
	return printAnswer(c.Main, st)
}
