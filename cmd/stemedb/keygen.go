package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"flag"
	"fmt"

	"github.com/stemedb/stemedb/assertion"
)

// KeygenCommand creates an agent key file.
type KeygenCommand struct {
	Main *Main
}

// Summary implements command.
func (c *KeygenCommand) Summary() string { return "create an agent key file and print its agent_id" }

// Run implements command.
func (c *KeygenCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("stemedb keygen", flag.ContinueOnError)
	fs.SetOutput(c.Main.Stderr)
	out := fs.String("out", "agent.key", "where to write the key file (mode 0600)")
	force := fs.Bool("force", false, "overwrite an existing key file")
	fs.Usage = func() {
		fmt.Fprint(c.Main.Stderr, `Usage: stemedb keygen [--out FILE] [--force]

Creates an Ed25519 key pair, writes it to FILE with mode 0600 and prints the agent_id
(the hex public key) that other agents and the server will know you by.

Example:
  stemedb keygen --out alice.key

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	if err := writeKeyFile(*out, key, *force); err != nil {
		return err
	}
	fmt.Fprintln(c.Main.Stdout, assertion.AgentOf(key).String())
	return nil
}
