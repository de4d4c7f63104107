package assertion_test

import (
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/assertion"
)

// The values below are copied verbatim from the appendix of API.md: if any of these tests
// fails, the code disagrees with the published contract, not the other way round.

const (
	appendixAgent = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"

	appendixTeslaBytes = "7374656d6564622f636c61696d2f763100000000095465736c615f496e630000000b6861735f726576656e75650240582ccccccccccd3fee6666666666660303030303030303030303030303030303030303030303030303030303030303"
	appendixTeslaHash  = "2fe546d677f029f087a3eeafe02f08c462a28d1b8e270f1433bb26b36c81c2fd"

	appendixAssertMsg  = "7374656d6564622f7369672f7631002fe546d677f029f087a3eeafe02f08c462a28d1b8e270f1433bb26b36c81c2fd0000000069248100"
	appendixAssertSig  = "c78dd76e9dd802b87bc290745a9b1a00611b4c44951290993e4206aedc3ca4a865e719fb782b5928dcbf96f07efaa2eff103bc77237627389eecf153adbaae0f"
	appendixVoteMsg    = "7374656d6564622f766f74652f7631002fe546d677f029f087a3eeafe02f08c462a28d1b8e270f1433bb26b36c81c2fdff0000000069248164"
	appendixVoteSig    = "218f34136ad9f63f9ecdf82deb7c94d6221f4c426c6c50d35e2b398e96494420b304396e0d548b93cb3211880d9b83f72d45f2dfa677c38df54114c85fc4c10b"
	appendixRetractMsg = "7374656d6564622f726574726163742f7631002fe546d677f029f087a3eeafe02f08c462a28d1b8e270f1433bb26b36c81c2fd00000000692481c8"
	appendixRetractSig = "3784b233ba4714292dd222b71bb4b1f0f042bc2b50f35b88a90c0d4ea9484a539ff2dd61bcec2b88e38a4c0efab5e525a5ba1fccfe755a7aec2d0f0570af8505"

	appendixJSON1Bytes = "7374656d6564622f636c61696d2f7631000000000173000000017006000000167b2261223a747275652c2262223a5b312c2278225d7d00000000000000000000000000000000000000000000000000000000000000000000000000000000"
	appendixJSON1Hash  = "650c5223ff41bb68604d6482a216e4f5ddc2b3ccaa7bcd2a8e95775c6545aa49"
	appendixJSON2Bytes = "7374656d6564622f636c61696d2f7631000000000173000000017006000000447b2261223a5b31652b32312c302c393030373139393235343734303939322c302e312c312e35652d375d2c22e282ac223a312c22f09f9880223a332c22ee8080223a327d3fe00000000000000000000000000000000000000000000000000000000000000000000000000000"
	appendixJSON2Hash  = "be09dfcfb681e7b28540b87c7c6224cb88f90579f78e8685659ca1c8b26831d5"
)

func TestAppendix_Key(t *testing.T) {
	assert.Equal(t, appendixAgent, assertion.AgentOf(testKey(t)).String())
}

func TestAppendix_Claims(t *testing.T) {
	tests := []struct {
		name  string
		claim func(t testing.TB) assertion.Claim
		bytes string
		hash  string
	}{
		{"Tesla/Number", teslaClaim, appendixTeslaBytes, appendixTeslaHash},
		{"Json/reordered", func(t testing.TB) assertion.Claim {
			return assertion.Claim{Subject: "s", Predicate: "p",
				Object: mustObject(t, "Json", `{"b":[1.0,"x"],"a":true}`)}
		}, appendixJSON1Bytes, appendixJSON1Hash},
		{"Json/numbers-and-keys", func(t testing.TB) assertion.Claim {
			return assertion.Claim{Subject: "s", Predicate: "p", Confidence: 0.5,
				Object: mustObject(t, "Json",
					`{"a":[1e21,-0,9007199254740993,0.1,1.5e-7],"\u20ac":1,"\ue000":2,"\ud83d\ude00":3}`)}
		}, appendixJSON2Bytes, appendixJSON2Hash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.claim(t)
			assert.Equal(t, tt.bytes, hex.EncodeToString(c.AppendBytes(nil)))
			assert.Equal(t, tt.hash, c.Hash().String())
		})
	}
}

func TestAppendix_Acts(t *testing.T) {
	key := testKey(t)
	h := mustHash(t, appendixTeslaHash)

	t.Run("assert", func(t *testing.T) {
		assert.Equal(t, appendixAssertMsg, hex.EncodeToString(assertion.AssertMessage(h, 1764000000)))
		s := assertion.SignAssertion(key, h, 1764000000)
		assert.Equal(t, appendixAssertSig, s.Sig.String())
		assert.Equal(t, appendixAgent, s.Agent.String())
		require.NoError(t, s.Verify(h))
	})
	t.Run("vote", func(t *testing.T) {
		assert.Equal(t, appendixVoteMsg, hex.EncodeToString(assertion.VoteMessage(h, -1, 1764000100)))
		v := assertion.SignVote(key, h, -1, 1764000100)
		assert.Equal(t, appendixVoteSig, v.Sig.String())
		require.NoError(t, v.Verify())
	})
	t.Run("retract", func(t *testing.T) {
		assert.Equal(t, appendixRetractMsg, hex.EncodeToString(assertion.RetractMessage(h, 1764000200)))
		r := assertion.SignRetraction(key, h, 1764000200)
		assert.Equal(t, appendixRetractSig, r.Sig.String())
		require.NoError(t, r.Verify())
	})
}
