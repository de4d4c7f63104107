package main

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/go-json-experiment/json"

	"github.com/stemedb/stemedb/assertion"
)

// keyFile is the on-disk form of an agent's key: the Ed25519 seed and, for people reading
// the file, the agent id it yields.
type keyFile struct {
	AgentID string `json:"agent_id"`
	Seed    string `json:"seed"`
}

func writeKeyFile(path string, key ed25519.PrivateKey, force bool) error {
	data, err := json.Marshal(keyFile{AgentID: assertion.AgentOf(key).String(), Seed: hex.EncodeToString(key.Seed())})
	if err != nil {
		return fmt.Errorf("encode key: %w", err)
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("key file %s exists (use --force to overwrite)", path)
		}
		return fmt.Errorf("create key file: %w", err)
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync key file: %w", err)
	}
	return f.Close()
}

func readKeyFile(path string) (ed25519.PrivateKey, error) {
	if path == "" {
		return nil, errors.New("--key is required (create one with `stemedb keygen`)")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	var kf keyFile
	if err := json.Unmarshal(data, &kf); err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	seed, err := hex.DecodeString(kf.Seed)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("key file %s: seed must be %d bytes of hex", path, ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}
