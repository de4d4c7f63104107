package assertion

import (
	"encoding/hex"
	"fmt"
)

// API.md §1: hex is lowercase in answers, and decoders accept upper case too.

// String returns the lowercase hex of h, as the API writes hashes.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is all zero, which as a claim's source means "no source".
func (h Hash) IsZero() bool { return h == Hash{} }

// MarshalText writes h as lowercase hex, so that JSON encoders write hashes as the API does.
func (h Hash) MarshalText() ([]byte, error) { return hexText(h[:]), nil }

// UnmarshalText reads h as ParseHash does.
func (h *Hash) UnmarshalText(b []byte) error { return decodeHex(h[:], b, "hash", ErrInvalid) }

// ParseHash reads a 32-byte hash from 64 hex digits of either case.
// Its errors match ErrInvalid: a malformed hash is a bad request, not a bad signature.
func ParseHash(s string) (Hash, error) {
	var h Hash
	return h, decodeHex(h[:], []byte(s), "hash", ErrInvalid)
}

// String returns the lowercase hex of the agent's public key: its agent_id.
func (a AgentID) String() string { return hex.EncodeToString(a[:]) }

// MarshalText writes a as lowercase hex.
func (a AgentID) MarshalText() ([]byte, error) { return hexText(a[:]), nil }

// UnmarshalText reads a as ParseAgentID does.
func (a *AgentID) UnmarshalText(b []byte) error {
	return decodeHex(a[:], b, "agent id", ErrSignature)
}

// ParseAgentID reads an agent id from 64 hex digits of either case.
// Its errors match ErrSignature, since API.md §2 calls a malformed key invalid_signature.
func ParseAgentID(s string) (AgentID, error) {
	var a AgentID
	return a, decodeHex(a[:], []byte(s), "agent id", ErrSignature)
}

// String returns the lowercase hex of the signature.
func (s Sig) String() string { return hex.EncodeToString(s[:]) }

// MarshalText writes s as lowercase hex.
func (s Sig) MarshalText() ([]byte, error) { return hexText(s[:]), nil }

// UnmarshalText reads s as ParseSig does.
func (s *Sig) UnmarshalText(b []byte) error {
	return decodeHex(s[:], b, "signature", ErrSignature)
}

// ParseSig reads a 64-byte signature from 128 hex digits of either case.
// Its errors match ErrSignature, since API.md §2 calls a malformed signature invalid_signature.
func ParseSig(s string) (Sig, error) {
	var sig Sig
	return sig, decodeHex(sig[:], []byte(s), "signature", ErrSignature)
}

func hexText(b []byte) []byte {
	return hex.AppendEncode(make([]byte, 0, 2*len(b)), b)
}

// decodeHex fills dst from exactly 2*len(dst) hex digits. It checks the length first so
// that a wrong-size value never half-fills dst; the message quotes at most one byte of the input, which
// may be a megabyte of garbage.
func decodeHex(dst, src []byte, what string, kind error) error {
	if len(src) != 2*len(dst) {
		return &fieldError{kind: kind,
			msg: fmt.Sprintf("%s: want %d hex digits, got %d bytes", what, 2*len(dst), len(src))}
	}
	if _, err := hex.Decode(dst, src); err != nil {
		clear(dst)
		i := 0
		for i < len(src)-1 && isHexDigit(src[i]) { // the length is even, so Decode only fails on a byte
			i++
		}
		return &fieldError{kind: kind, msg: fmt.Sprintf("%s: not hex: byte %#02x at position %d", what, src[i], i)}
	}
	return nil
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
