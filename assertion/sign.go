package assertion

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
)

// Domain prefixes of the signed messages (API.md §1.2). Each act signs a different prefix,
// so that no signature over one act can be replayed as another.
const (
	assertPrefix  = "stemedb/sig/v1\x00"
	votePrefix    = "stemedb/vote/v1\x00"
	retractPrefix = "stemedb/retract/v1\x00"
)

// Longest message: the retract prefix, the hash and the timestamp; the vote adds one byte
// to a shorter prefix.
const maxMessageLen = len(retractPrefix) + 32 + 8

// AssertMessage returns what an agent signs to assert the claim with hash h at Unix time
// ts: "stemedb/sig/v1" 0x00, the 32 hash bytes, u64 big-endian ts.
func AssertMessage(h Hash, ts uint64) []byte { return appendAssertMessage(nil, h, ts) }

// VoteMessage returns what an agent signs to vote on the assertion h at Unix time ts:
// "stemedb/vote/v1" 0x00, the 32 hash bytes, the vote as one signed byte, u64 big-endian ts.
func VoteMessage(h Hash, vote int8, ts uint64) []byte { return appendVoteMessage(nil, h, vote, ts) }

// RetractMessage returns what an agent signs to retract its signature from the assertion h
// at Unix time ts: "stemedb/retract/v1" 0x00, the 32 hash bytes, u64 big-endian ts.
func RetractMessage(h Hash, ts uint64) []byte { return appendRetractMessage(nil, h, ts) }

func appendAssertMessage(dst []byte, h Hash, ts uint64) []byte {
	dst = append(dst, assertPrefix...)
	dst = append(dst, h[:]...)
	return binary.BigEndian.AppendUint64(dst, ts)
}

func appendVoteMessage(dst []byte, h Hash, vote int8, ts uint64) []byte {
	dst = append(dst, votePrefix...)
	dst = append(dst, h[:]...)
	dst = append(dst, byte(vote))
	return binary.BigEndian.AppendUint64(dst, ts)
}

func appendRetractMessage(dst []byte, h Hash, ts uint64) []byte {
	dst = append(dst, retractPrefix...)
	dst = append(dst, h[:]...)
	return binary.BigEndian.AppendUint64(dst, ts)
}

// AgentOf returns the agent id of a private key: its public key.
func AgentOf(priv ed25519.PrivateKey) AgentID {
	return AgentID(priv.Public().(ed25519.PublicKey))
}

// SignAssertion signs the assert act for the claim hash h at Unix time ts.
// It panics, as ed25519.Sign does, if priv is not a 64-byte private key.
func SignAssertion(priv ed25519.PrivateKey, h Hash, ts uint64) Signature {
	var buf [maxMessageLen]byte
	return Signature{
		Agent:     AgentOf(priv),
		Sig:       Sig(ed25519.Sign(priv, appendAssertMessage(buf[:0], h, ts))),
		Timestamp: ts,
	}
}

// Sign adds priv's signature at Unix time ts to the assertion, for its current claim.
func (a *Assertion) Sign(priv ed25519.PrivateKey, ts uint64) {
	a.Signatures = append(a.Signatures, SignAssertion(priv, a.Claim.Hash(), ts))
}

// SignVote returns priv's signed vote (-1, 0 or 1) on the assertion h at Unix time ts.
func SignVote(priv ed25519.PrivateKey, h Hash, vote int8, ts uint64) Vote {
	var buf [maxMessageLen]byte
	return Vote{
		Assertion: h,
		Agent:     AgentOf(priv),
		Value:     vote,
		Timestamp: ts,
		Sig:       Sig(ed25519.Sign(priv, appendVoteMessage(buf[:0], h, vote, ts))),
	}
}

// SignRetraction returns priv's signed retraction of its signature from the assertion h
// at Unix time ts.
func SignRetraction(priv ed25519.PrivateKey, h Hash, ts uint64) Retraction {
	var buf [maxMessageLen]byte
	return Retraction{
		Assertion: h,
		Agent:     AgentOf(priv),
		Timestamp: ts,
		Sig:       Sig(ed25519.Sign(priv, appendRetractMessage(buf[:0], h, ts))),
	}
}

// Verify checks one signature of the assertion with claim hash h, as crypto/ed25519.Verify
// does (RFC 8032, canonical S). The error matches ErrSignature and names the agent.
// The server may call it for each signature on its own core.
func (s *Signature) Verify(h Hash) error {
	var buf [maxMessageLen]byte
	if !ed25519.Verify(s.Agent[:], appendAssertMessage(buf[:0], h, s.Timestamp), s.Sig[:]) {
		return signaturef("signature: does not verify for agent %s", s.Agent)
	}
	return nil
}

// VerifySignatures checks every signature against the claim's hash. The first failure is
// returned, matching ErrSignature and naming its index and agent ("signatures[1].signature: ...").
func (a *Assertion) VerifySignatures() error {
	h := a.Claim.Hash()
	for i := range a.Signatures {
		if err := a.Signatures[i].Verify(h); err != nil {
			return within(fmt.Sprintf("signatures[%d].", i), err)
		}
	}
	return nil
}

// Verify checks the vote's signature. The error matches ErrSignature and names the agent.
func (v *Vote) Verify() error {
	var buf [maxMessageLen]byte
	if !ed25519.Verify(v.Agent[:], appendVoteMessage(buf[:0], v.Assertion, v.Value, v.Timestamp), v.Sig[:]) {
		return signaturef("signature: vote does not verify for agent %s", v.Agent)
	}
	return nil
}

// Verify checks the retraction's signature. The error matches ErrSignature and names the agent.
func (r *Retraction) Verify() error {
	var buf [maxMessageLen]byte
	if !ed25519.Verify(r.Agent[:], appendRetractMessage(buf[:0], r.Assertion, r.Timestamp), r.Sig[:]) {
		return signaturef("signature: retraction does not verify for agent %s", r.Agent)
	}
	return nil
}
