package sqlview

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stemedb/stemedb/assertion"
)

// Assertion is one assertion as reads return it (API.md §4): its claim, its current
// signers, its counted votes, whether it is retracted and where the log first wrote it.
type Assertion struct {
	Hash       assertion.Hash
	Subject    string
	Predicate  string
	Object     assertion.Object
	Confidence float64
	Source     assertion.Hash // zero when absent
	Signatures []Signature    // current signers, oldest signature first; none when retracted
	Up, Down   uint32         // counted votes (+1 and -1)
	Retracted  bool
	Offset     uint64 // end of the log record that first wrote the assertion

	id int64
}

// Signature is a current signer's stored signature.
type Signature struct {
	Agent     assertion.AgentID
	Sig       assertion.Sig
	Timestamp uint64
}

// MarshalJSON writes the <assertion> object of API.md §4.
func (a *Assertion) MarshalJSON() ([]byte, error) { return a.AppendJSON(nil), nil }

// AppendJSON appends the <assertion> object of API.md §4 to dst:
//
//	{"hash", "subject", "predicate", "object": {"type", "value"}, "confidence",
//	 "source_hash": hex | null, "signatures": [{"agent_id", "signature", "timestamp"}],
//	 "votes": {"up", "down"}, "retracted", "offset"}
func (a *Assertion) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"hash":"`...)
	dst = hex.AppendEncode(dst, a.Hash[:])
	dst = append(dst, `","subject":`...)
	dst = appendJSONString(dst, a.Subject)
	dst = append(dst, `,"predicate":`...)
	dst = appendJSONString(dst, a.Predicate)
	dst = append(dst, `,"object":{"type":"`...)
	dst = append(dst, a.Object.TypeName()...)
	dst = append(dst, `","value":`...)
	dst = a.Object.AppendJSONValue(dst)
	dst = append(dst, `},"confidence":`...)
	dst = assertion.Object{Type: assertion.TypeNumber, Number: a.Confidence}.AppendJSONValue(dst)
	dst = append(dst, `,"source_hash":`...)
	if a.Source.IsZero() {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '"')
		dst = hex.AppendEncode(dst, a.Source[:])
		dst = append(dst, '"')
	}
	dst = append(dst, `,"signatures":[`...)
	for i, s := range a.Signatures {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"agent_id":"`...)
		dst = hex.AppendEncode(dst, s.Agent[:])
		dst = append(dst, `","signature":"`...)
		dst = hex.AppendEncode(dst, s.Sig[:])
		dst = append(dst, `","timestamp":`...)
		dst = strconv.AppendUint(dst, s.Timestamp, 10)
		dst = append(dst, '}')
	}
	dst = append(dst, `],"votes":{"up":`...)
	dst = strconv.AppendUint(dst, uint64(a.Up), 10)
	dst = append(dst, `,"down":`...)
	dst = strconv.AppendUint(dst, uint64(a.Down), 10)
	dst = append(dst, `},"retracted":`...)
	dst = strconv.AppendBool(dst, a.Retracted)
	dst = append(dst, `,"offset":`...)
	dst = strconv.AppendUint(dst, a.Offset, 10)
	return append(dst, '}')
}

// appendJSONString writes s as a JSON string with RFC 8785 escaping, the way object
// values are written.
func appendJSONString(dst []byte, s string) []byte {
	return assertion.Object{Type: assertion.TypeString, Text: s}.AppendJSONValue(dst)
}

// assertionColumns are the columns scanAssertion reads, after the caller's own leading
// columns (QueryWinners lists them itself, in this order).
const assertionColumns = `a.id, a.hash, g.subject, g.predicate, a.object_type, a.object_value,
	a.confidence, a.source_hash, a.retracted, a."offset"`

// scanAssertion scans assertionColumns (preceded by lead) into a.
func scanAssertion(rows interface{ Scan(...any) error }, a *Assertion, lead ...any) error {
	var (
		hash, typ string
		value     any
		source    sql.NullString
		off       int64
	)
	dest := append(lead, &a.id, &hash, &a.Subject, &a.Predicate, &typ, &value,
		&a.Confidence, &source, &a.Retracted, &off)
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	var err error
	if a.Hash, err = assertion.ParseHash(hash); err != nil {
		return fmt.Errorf("stored hash: %w", err)
	}
	if source.Valid {
		if a.Source, err = assertion.ParseHash(source.String); err != nil {
			return fmt.Errorf("stored source hash: %w", err)
		}
	}
	if a.Object, err = objectFromSQL(typ, value); err != nil {
		return err
	}
	a.Offset = uint64(off)
	return nil
}

// objectFromSQL rebuilds an object from object_type and object_value as SQLValue wrote
// them (API.md §6). Every form round-trips exactly: REAL is the same float64, Time text
// is RFC 3339 with all nanoseconds, Json text is canonical.
func objectFromSQL(typ string, v any) (assertion.Object, error) {
	t, err := assertion.ParseObjectType(typ)
	if err != nil {
		return assertion.Object{}, fmt.Errorf("stored object type: %w", err)
	}
	o := assertion.Object{Type: t}
	bad := func() (assertion.Object, error) {
		return assertion.Object{}, fmt.Errorf("stored %s value of Go type %T", typ, v)
	}
	switch t {
	case assertion.TypeString, assertion.TypeEntity, assertion.TypeJSON:
		switch x := v.(type) {
		case string:
			o.Text = x
		case []byte:
			o.Text = string(x)
		default:
			return bad()
		}
	case assertion.TypeNumber:
		switch x := v.(type) {
		case float64:
			o.Number = x
		case int64:
			o.Number = float64(x)
		default:
			return bad()
		}
	case assertion.TypeBoolean:
		x, ok := v.(int64)
		if !ok {
			return bad()
		}
		o.Bool = x != 0
	case assertion.TypeTime:
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return assertion.Object{}, fmt.Errorf("stored time: %w", err)
		}
		o.UnixNano = tm.UnixNano()
	default:
		return bad()
	}
	return o, nil
}

// GetAssertion returns one assertion, retracted or not, with its current signatures and
// vote counts, read in one snapshot from the read pool. An unknown hash gives
// ErrNotFound.
func (db *DB) GetAssertion(ctx context.Context, h assertion.Hash) (*Assertion, error) {
	tx, err := db.BeginRead(ctx)
	if err != nil {
		return nil, fmt.Errorf("get assertion %s: %w", h, err)
	}
	defer tx.Rollback()
	a, err := GetAssertion(ctx, tx, h)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// GetAssertion is DB.GetAssertion on any Querier (a read transaction, or a write one).
func GetAssertion(ctx context.Context, q Querier, h assertion.Hash) (*Assertion, error) {
	a := &Assertion{}
	err := scanAssertion(q.QueryRowContext(ctx, `SELECT `+assertionColumns+`
		FROM assertion_rows AS a JOIN claim_groups AS g ON g.id = a.group_id
		WHERE a.hash = ?1`, h.String()), a)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("get assertion %s: %w", h, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get assertion %s: %w", h, err)
	}
	if err := fillActs(ctx, q, []*Assertion{a}); err != nil {
		return nil, fmt.Errorf("get assertion %s: %w", h, err)
	}
	return a, nil
}

// fillActs loads the current signatures and vote counts of as, in two statements.
func fillActs(ctx context.Context, q Querier, as []*Assertion) error {
	if len(as) == 0 {
		return nil
	}
	byID := make(map[int64]*Assertion, len(as))
	ids := make([]int64, 0, len(as))
	for _, a := range as {
		a.Signatures, a.Up, a.Down = a.Signatures[:0], 0, 0
		if _, dup := byID[a.id]; !dup {
			ids = append(ids, a.id)
		}
		byID[a.id] = a
	}
	list := jsonIntList(ids)

	rows, err := q.QueryContext(ctx, `SELECT s.assertion_id, ag.agent_id, s.signature, s."timestamp"
		FROM json_each(?1) AS j
		CROSS JOIN sign_acts AS s ON s.assertion_id = j.value AND s.retract = 0
		CROSS JOIN agent_rows AS ag ON ag.id = s.agent
		ORDER BY s.assertion_id, s."timestamp", ag.agent_id`, list)
	if err != nil {
		return fmt.Errorf("signatures: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id      int64
			agent   string
			sig     []byte
			ts      int64
			s       Signature
			agentID assertion.AgentID
		)
		if err := rows.Scan(&id, &agent, &sig, &ts); err != nil {
			return fmt.Errorf("signatures: %w", err)
		}
		if agentID, err = assertion.ParseAgentID(agent); err != nil {
			return fmt.Errorf("stored agent id: %w", err)
		}
		if len(sig) != len(s.Sig) {
			return fmt.Errorf("stored signature of %d bytes", len(sig))
		}
		s.Agent, s.Timestamp = agentID, uint64(ts)
		copy(s.Sig[:], sig)
		a := byID[id]
		a.Signatures = append(a.Signatures, s)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("signatures: %w", err)
	}
	rows.Close()

	rows, err = q.QueryContext(ctx, `SELECT v.assertion_id, sum(v.vote > 0), sum(v.vote < 0)
		FROM json_each(?1) AS j
		CROSS JOIN vote_acts AS v ON v.assertion_id = j.value
		GROUP BY v.assertion_id`, list)
	if err != nil {
		return fmt.Errorf("votes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, up, down int64
		if err := rows.Scan(&id, &up, &down); err != nil {
			return fmt.Errorf("votes: %w", err)
		}
		a := byID[id]
		a.Up, a.Down = uint32(up), uint32(down)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("votes: %w", err)
	}
	// Duplicates (the same assertion twice in one list) share the last copy's acts.
	for _, a := range as {
		if b := byID[a.id]; b != a {
			a.Signatures, a.Up, a.Down = b.Signatures, b.Up, b.Down
		}
	}
	return nil
}

// jsonIntList writes ids as a JSON array, the argument of json_each: one bound
// parameter however many ids, and one prepared statement for every length.
func jsonIntList(ids []int64) string {
	var b strings.Builder
	b.Grow(len(ids)*8 + 2)
	b.WriteByte('[')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteByte(']')
	return b.String()
}
