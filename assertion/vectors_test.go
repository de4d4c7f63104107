package assertion_test

import (
	"bytes"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/assertion"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json from the code")

const vectorsPath = "testdata/vectors.json"

// The layout of testdata/vectors.json; testdata/README.md describes it for client authors.
type (
	vectorFile struct {
		About string       `json:"about"`
		Key   vectorKey    `json:"key"`
		Cases []vectorCase `json:"cases"`
	}
	vectorKey struct {
		Seed    string `json:"seed"`
		AgentID string `json:"agent_id"`
	}
	vectorCase struct {
		Name        string         `json:"name"`
		Request     assertRequest  `json:"request"`
		AnswerValue jsontext.Value `json:"answer_value"`
		ClaimBytes  string         `json:"claim_bytes"`
		Hash        string         `json:"hash"`
		Assert      vectorAct      `json:"assert"`
		Votes       []vectorAct    `json:"votes"`
		Retract     vectorAct      `json:"retract"`
	}
	assertRequest struct {
		Subject    string        `json:"subject"`
		Predicate  string        `json:"predicate"`
		Object     requestObject `json:"object"`
		Confidence float64       `json:"confidence"`
		Signatures []requestSig  `json:"signatures"`
		SourceHash string        `json:"source_hash,omitempty"`
	}
	requestObject struct {
		Type  string         `json:"type"`
		Value jsontext.Value `json:"value"`
	}
	requestSig struct {
		AgentID   string `json:"agent_id"`
		Signature string `json:"signature"`
		Timestamp uint64 `json:"timestamp"`
	}
	vectorAct struct {
		Vote      *int8  `json:"vote,omitempty"`
		Timestamp uint64 `json:"timestamp"`
		Message   string `json:"message"`
		Signature string `json:"signature"`
	}
)

// The acts' timestamps are those of API.md's appendix.
const (
	assertTS  = 1764000000
	voteTS    = 1764000100
	retractTS = 1764000200
)

// vectorInput is one claim of the vectors, as a client sends it.
type vectorInput struct {
	name string
	req  assertRequest
}

func vectorInputs() []vectorInput {
	src := func(b byte) string { return hex.EncodeToString(bytes.Repeat([]byte{b}, 32)) }
	seq := make([]byte, 32)
	for i := range seq {
		seq[i] = byte(i + 1)
	}
	in := func(name, s, p, typ, value string, conf float64, source string) vectorInput {
		return vectorInput{name, assertRequest{Subject: s, Predicate: p,
			Object: requestObject{typ, jsontext.Value(value)}, Confidence: conf, SourceHash: source}}
	}
	return []vectorInput{
		in("Number/appendix", "Tesla_Inc", "has_revenue", "Number", `96.7`, 0.95, src(0x03)),
		in("Number/negative-zero", "thermometer_7", "reading_celsius", "Number", `-0`, 1, ""),
		in("Number/beyond-2^53", "counter", "value", "Number", `9007199254740993`, 0.25, ""),
		in("Number/exponent", "probe", "epsilon", "Number", `1.5E-7`, 0.125, ""),
		in("String/escapes", "user:42", "home_city", "String", `"Z\u00fcrich \ud83d\ude00"`, 0.8, hex.EncodeToString(seq)),
		in("String/empty", "note", "text", "String", `""`, 0.5, ""),
		in("Boolean/true", "Tesla_Inc", "is_public", "Boolean", `true`, 1, ""),
		in("Boolean/false", "Tesla_Inc", "is_private", "Boolean", `false`, 0.75, ""),
		in("Entity", "Tesla_Inc", "ceo", "Entity", `"Elon_Musk"`, 0.99, ""),
		in("Time/offset-and-nanoseconds", "Tesla_Inc", "founded_at", "Time", `"2003-07-01T09:30:00.123456789-07:00"`, 0.9, ""),
		in("Time/lowercase-t-and-z", "leap_day", "observed_at", "Time", `"2024-02-29t23:59:59.5z"`, 0.6, ""),
		in("Time/before-1970", "epoch", "starts_at", "Time", `"1969-12-31T23:59:59Z"`, 1, ""),
		in("Json/appendix-key-order", "s", "p", "Json", `{"b":[1.0,"x"],"a":true}`, 0, ""),
		in("Json/appendix-numbers-and-keys", "s", "p", "Json",
			`{"a":[1e21,-0,9007199254740993,0.1,1.5e-7],"\u20ac":1,"\ue000":2,"\ud83d\ude00":3}`, 0.5, ""),
		in("Json/whitespace-and-escapes", "config", "limits", "Json",
			`{ "nested" : { "z" : null, "a" : [ ] }, "s" : "tab\tand \"quote\"" }`, 0.5, ""),
	}
}

// buildVectors computes every vector from vectorInputs with the package's code.
func buildVectors(t testing.TB) vectorFile {
	key := testKey(t)
	agent := assertion.AgentOf(key)
	f := vectorFile{
		About: "StemeDB v1 known-answer vectors: claim bytes, hashes, signed messages and Ed25519 " +
			"signatures for each object type and each act. See README.md next to this file.",
		Key: vectorKey{Seed: testSeed, AgentID: agent.String()},
	}
	for _, vi := range vectorInputs() {
		in := vi.req
		claim := claimOf(t, in)
		h := claim.Hash()
		c := vectorCase{
			Name:        vi.name,
			AnswerValue: claim.Object.AppendJSONValue(nil),
			ClaimBytes:  hex.EncodeToString(claim.AppendBytes(nil)),
			Hash:        h.String(),
		}
		s := assertion.SignAssertion(key, h, assertTS)
		c.Assert = vectorAct{Timestamp: assertTS, Message: hex.EncodeToString(assertion.AssertMessage(h, assertTS)),
			Signature: s.Sig.String()}
		in.Signatures = []requestSig{{AgentID: agent.String(), Signature: s.Sig.String(), Timestamp: assertTS}}
		c.Request = in
		for _, vote := range []int8{-1, 0, 1} {
			v := assertion.SignVote(key, h, vote, voteTS)
			c.Votes = append(c.Votes, vectorAct{Vote: &vote, Timestamp: voteTS,
				Message: hex.EncodeToString(assertion.VoteMessage(h, vote, voteTS)), Signature: v.Sig.String()})
		}
		r := assertion.SignRetraction(key, h, retractTS)
		c.Retract = vectorAct{Timestamp: retractTS, Message: hex.EncodeToString(assertion.RetractMessage(h, retractTS)),
			Signature: r.Sig.String()}
		f.Cases = append(f.Cases, c)
	}
	return f
}

// claimOf reads a request's claim the way the server does.
func claimOf(t testing.TB, in assertRequest) assertion.Claim {
	t.Helper()
	o, err := assertion.ParseObject(in.Object.Type, in.Object.Value, assertion.DefaultLimits())
	require.NoError(t, err, in.Object.Value)
	c := assertion.Claim{Subject: in.Subject, Predicate: in.Predicate, Object: o, Confidence: in.Confidence}
	if in.SourceHash != "" {
		c.Source, err = assertion.ParseHash(in.SourceHash)
		require.NoError(t, err)
	}
	return c
}

func encodeVectors(t testing.TB, f vectorFile) []byte {
	// PreserveRawStrings keeps the requests' escapes (\u20ac, surrogate pairs) as written,
	// since decoding them is part of what a client author tests.
	compact, err := json.Marshal(f, jsontext.PreserveRawStrings(true))
	require.NoError(t, err)
	var buf bytes.Buffer
	expand(t, &buf, compact, "", 4)
	buf.WriteByte('\n')
	return buf.Bytes()
}

// expand writes a compact JSON value with its objects and arrays opened one member per
// line down to depth levels, and compact below: deep enough to read, short enough to scan.
// An answer_value stays compact, since it shows the exact text that answers hold.
func expand(t testing.TB, buf *bytes.Buffer, v jsontext.Value, indent string, depth int) {
	kind := v.Kind()
	if depth <= 0 || (kind != '{' && kind != '[') {
		buf.Write(v)
		return
	}
	dec := jsontext.NewDecoder(bytes.NewReader(v), jsontext.PreserveRawStrings(true))
	_, err := dec.ReadToken()
	require.NoError(t, err)
	buf.WriteByte(byte(kind))
	for i := 0; dec.PeekKind() != '}' && dec.PeekKind() != ']'; i++ {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("\n" + indent + "  ")
		next := depth - 1
		if kind == '{' {
			name, err := dec.ReadValue()
			require.NoError(t, err)
			buf.Write(name)
			buf.WriteString(": ")
			if string(name) == `"answer_value"` {
				next = 0
			}
		}
		val, err := dec.ReadValue()
		require.NoError(t, err)
		expand(t, buf, val, indent+"  ", next)
	}
	buf.WriteString("\n" + indent)
	buf.WriteByte(byte(kind) + 2) // '{'+2 is '}', '['+2 is ']'
}

// TestVectors checks testdata/vectors.json against the code; with -update it rewrites it.
func TestVectors(t *testing.T) {
	want := encodeVectors(t, buildVectors(t))
	if *update {
		require.NoError(t, os.WriteFile(vectorsPath, want, 0o644))
	}
	got, err := os.ReadFile(vectorsPath)
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "run: go test ./assertion -run Vectors -update")
}

// TestVectors_AsAClient reads the published file as a client author would, independently
// of how it was generated, and checks each value with the package.
func TestVectors_AsAClient(t *testing.T) {
	b, err := os.ReadFile(filepath.FromSlash(vectorsPath))
	require.NoError(t, err)
	var f vectorFile
	require.NoError(t, json.Unmarshal(b, &f))
	require.NotEmpty(t, f.Cases)
	assert.Equal(t, appendixAgent, f.Key.AgentID)
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			claim := claimOf(t, c.Request)
			assert.Equal(t, c.ClaimBytes, hex.EncodeToString(claim.AppendBytes(nil)))
			h := claim.Hash()
			assert.Equal(t, c.Hash, h.String())
			assert.Equal(t, string(c.AnswerValue), string(claim.Object.AppendJSONValue(nil)))

			a := assertion.Assertion{Claim: claim}
			for _, s := range c.Request.Signatures {
				agent, err := assertion.ParseAgentID(s.AgentID)
				require.NoError(t, err)
				sig, err := assertion.ParseSig(s.Signature)
				require.NoError(t, err)
				a.Signatures = append(a.Signatures, assertion.Signature{Agent: agent, Sig: sig, Timestamp: s.Timestamp})
			}
			require.NoError(t, a.Validate(assertion.DefaultLimits(), serverNow))
			require.NoError(t, a.VerifySignatures())
			assert.Equal(t, c.Assert.Message, hex.EncodeToString(assertion.AssertMessage(h, c.Assert.Timestamp)))

			agent, err := assertion.ParseAgentID(f.Key.AgentID)
			require.NoError(t, err)
			require.Len(t, c.Votes, 3)
			for _, act := range c.Votes {
				require.NotNil(t, act.Vote)
				assert.Equal(t, act.Message, hex.EncodeToString(assertion.VoteMessage(h, *act.Vote, act.Timestamp)))
				v := assertion.Vote{Assertion: h, Agent: agent, Value: *act.Vote, Timestamp: act.Timestamp,
					Sig: assertion.Sig(hexBytes(t, act.Signature))}
				require.NoError(t, v.Verify())
			}
			assert.Equal(t, c.Retract.Message, hex.EncodeToString(assertion.RetractMessage(h, c.Retract.Timestamp)))
			r := assertion.Retraction{Assertion: h, Agent: agent, Timestamp: c.Retract.Timestamp,
				Sig: assertion.Sig(hexBytes(t, c.Retract.Signature))}
			require.NoError(t, r.Verify())
		})
	}
}

// TestVectors_IncludeAppendix ties the published file to API.md's appendix.
func TestVectors_IncludeAppendix(t *testing.T) {
	byHash := map[string]vectorCase{}
	for _, c := range buildVectors(t).Cases {
		byHash[c.Hash] = c
	}
	tesla := byHash[appendixTeslaHash]
	assert.Equal(t, appendixTeslaBytes, tesla.ClaimBytes)
	assert.Equal(t, appendixAssertSig, tesla.Assert.Signature)
	assert.Equal(t, appendixVoteSig, tesla.Votes[0].Signature)
	assert.Equal(t, appendixRetractSig, tesla.Retract.Signature)
	assert.Equal(t, appendixJSON1Bytes, byHash[appendixJSON1Hash].ClaimBytes)
	assert.Equal(t, appendixJSON2Bytes, byHash[appendixJSON2Hash].ClaimBytes)
}
