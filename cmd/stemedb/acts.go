package main

import (
	"context"
	"crypto/ed25519"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/peterbourgon/ff/v3"

	"github.com/stemedb/stemedb/api"
	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/client"
)

// actFlags are the flags every signing command shares.
type actFlags struct {
	server    string
	keyPath   string
	timestamp uint64
}

func (f *actFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.server, "server", client.DefaultServer, "the server's base URL (env STEMEDB_SERVER)")
	fs.StringVar(&f.keyPath, "key", "", "the agent's key file from `stemedb keygen` (env STEMEDB_KEY)")
	fs.Uint64Var(&f.timestamp, "timestamp", 0, "the act's Unix seconds (default: now)")
}

func (f *actFlags) ts() uint64 {
	if f.timestamp != 0 {
		return f.timestamp
	}
	return uint64(time.Now().Unix())
}

// parseFlags parses a command's flags, with STEMEDB_* environment fallbacks, and refuses
// stray arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := ff.Parse(fs, args, ff.WithEnvVarPrefix("STEMEDB")); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return nil
}

func usage(m *Main, fs *flag.FlagSet, text string) func() {
	return func() {
		fmt.Fprint(m.Stderr, text+"\nFlags:\n")
		fs.PrintDefaults()
	}
}

// parseTargetedAct parses the flags of an act on an existing assertion (vote, retract)
// and returns the agent's key and the assertion's hash.
func parseTargetedAct(fs *flag.FlagSet, args []string, af *actFlags, hash *string) (ed25519.PrivateKey, assertion.Hash, error) {
	if err := parseFlags(fs, args); err != nil {
		return nil, assertion.Hash{}, err
	}
	key, err := readKeyFile(af.keyPath)
	if err != nil {
		return nil, assertion.Hash{}, err
	}
	h, err := assertion.ParseHash(*hash)
	if err != nil {
		return nil, assertion.Hash{}, fmt.Errorf("--hash: %w", err)
	}
	return key, h, nil
}

// printAnswer writes the server's answer as indented JSON.
func printAnswer(m *Main, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode answer: %w", err)
	}
	val := jsontext.Value(data)
	if err := val.Indent(); err != nil {
		return fmt.Errorf("indent answer: %w", err)
	}
	_, err = fmt.Fprintf(m.Stdout, "%s\n", val)
	return err
}

// AssertCommand signs a claim and posts it.
type AssertCommand struct {
	Main *Main
}

// Summary implements command.
func (c *AssertCommand) Summary() string { return "sign a claim with a key file and post it" }

// Run implements command.
func (c *AssertCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("stemedb assert", flag.ContinueOnError)
	fs.SetOutput(c.Main.Stderr)
	var af actFlags
	af.register(fs)
	subject := fs.String("subject", "", "the claim's subject (required)")
	predicate := fs.String("predicate", "", "the claim's predicate (required)")
	typ := fs.String("type", "String", "object type: String, Number, Boolean, Entity, Time or Json")
	value := fs.String("value", "", "object value; JSON text for Number, Boolean and Json, plain text otherwise")
	confidence := fs.Float64("confidence", 1, "confidence in [0, 1]")
	source := fs.String("source", "", "source hash, 64 hex digits (optional)")
	fs.Usage = usage(c.Main, fs, `Usage: stemedb assert --key FILE --subject S --predicate P --type T --value V [flags]

Signs the claim with the agent's key and posts it to POST /v1/assert; prints the answer.

Example:
  stemedb keygen --out alice.key
  stemedb assert --key alice.key --subject Tesla_Inc --predicate has_revenue \
      --type Number --value 96.7 --confidence 0.95
`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	key, err := readKeyFile(af.keyPath)
	if err != nil {
		return err
	}
	raw := jsontext.Value(*value)
	switch *typ {
	case "String", "Entity", "Time":
		if raw, err = json.Marshal(*value); err != nil {
			return fmt.Errorf("encode --value: %w", err)
		}
	}
	lim := assertion.DefaultLimits()
	obj, err := assertion.ParseObject(*typ, raw, lim)
	if err != nil {
		return fmt.Errorf("--type/--value: %w", err)
	}
	a := assertion.Assertion{Claim: assertion.Claim{Subject: *subject, Predicate: *predicate, Object: obj, Confidence: *confidence}}
	if *source != "" {
		if a.Claim.Source, err = assertion.ParseHash(*source); err != nil {
			return fmt.Errorf("--source: %w", err)
		}
	}
	a.Sign(key, af.ts())
	if err := a.Validate(lim, time.Now()); err != nil {
		return err
	}
	res, err := client.New(af.server, nil).Assert(ctx, api.NewAssertRequest(&a))
	if err != nil {
		return err
	}
	return printAnswer(c.Main, res)
}

// VoteCommand signs a vote on an assertion and posts it.
type VoteCommand struct {
	Main *Main
}

// Summary implements command.
func (c *VoteCommand) Summary() string { return "sign a vote (-1, 0 or 1) on an assertion and post it" }

// Run implements command.
func (c *VoteCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("stemedb vote", flag.ContinueOnError)
	fs.SetOutput(c.Main.Stderr)
	var af actFlags
	af.register(fs)
	hash := fs.String("hash", "", "the assertion's hash (required)")
	vote := fs.Int("vote", 1, "1 (up), -1 (down) or 0 (withdraw)")
	fs.Usage = usage(c.Main, fs, `Usage: stemedb vote --key FILE --hash H --vote 1|-1|0 [flags]

Signs a vote on the assertion H and posts it to POST /v1/vote; prints the answer.

Example:
  stemedb vote --key bob.key --hash 2fe546d6...c2fd --vote -1
`)
	key, h, err := parseTargetedAct(fs, args, &af, hash)
	if err != nil {
		return err
	}
	if *vote < -1 || *vote > 1 {
		return fmt.Errorf("--vote must be -1, 0 or 1, got %d", *vote)
	}
	v := assertion.SignVote(key, h, int8(*vote), af.ts())
	res, err := client.New(af.server, nil).Vote(ctx, api.NewVoteRequest(&v))
	if err != nil {
		return err
	}
	return printAnswer(c.Main, res)
}

// RetractCommand signs a retraction of the agent's own signature and posts it.
type RetractCommand struct {
	Main *Main
}

// Summary implements command.
func (c *RetractCommand) Summary() string { return "retract your signature from an assertion" }

// Run implements command.
func (c *RetractCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("stemedb retract", flag.ContinueOnError)
	fs.SetOutput(c.Main.Stderr)
	var af actFlags
	af.register(fs)
	hash := fs.String("hash", "", "the assertion's hash (required)")
	fs.Usage = usage(c.Main, fs, `Usage: stemedb retract --key FILE --hash H [flags]

Signs a retraction of your signature on the assertion H and posts it to POST /v1/retract.

Example:
  stemedb retract --key alice.key --hash 2fe546d6...c2fd
`)
	key, h, err := parseTargetedAct(fs, args, &af, hash)
	if err != nil {
		return err
	}
	r := assertion.SignRetraction(key, h, af.ts())
	res, err := client.New(af.server, nil).Retract(ctx, api.NewRetractRequest(&r))
	if err != nil {
		return err
	}
	return printAnswer(c.Main, res)
}
