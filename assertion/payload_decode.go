package assertion

import (
	"encoding/binary"
	"math"
)

// DecodeRecord reads a payload written by the Append…Record functions. It is strict, so that
// corruption that slipped past the log's checksums is caught rather than applied: the
// version must be PayloadVersion, every length must fit in what is left, every varint
// must be minimal, flags and booleans must be 0 or 1, and no byte may trail. It never
// panics, and it sizes every allocation by the bytes actually present, never by a count
// read from the payload. A payload that DecodeRecord accepts encodes back to the same bytes.
//
// Errors match ErrMalformed, or ErrUnknownKind for a kind this package does not own; with
// the latter, the returned Record's Kind is set.
//
// The decoded strings share one copy of the payload: keeping any of them keeps all of it;
// use strings.Clone to keep a small piece of a large record for long.
func DecodeRecord(payload []byte) (Record, error) {
	if len(payload) < 2 {
		return Record{}, malformedf("%d bytes, too short for the version and kind", len(payload))
	}
	if payload[0] != PayloadVersion {
		return Record{}, malformedf("unsupported format version %d (this build reads %d)",
			payload[0], PayloadVersion)
	}
	d := decoder{buf: payload, off: 2}
	rec := Record{Kind: Kind(payload[1])}
	switch rec.Kind {
	case KindAssert:
		d.str = string(payload)
		rec.Assertions = d.assertions()
	case KindVote:
		v := &rec.Vote
		d.fixed(v.Assertion[:])
		d.fixed(v.Agent[:])
		v.Value = int8(d.byte())
		v.Timestamp = d.uvarint()
		d.fixed(v.Sig[:])
	case KindRetract:
		r := &rec.Retraction
		d.fixed(r.Assertion[:])
		d.fixed(r.Agent[:])
		r.Timestamp = d.uvarint()
		d.fixed(r.Sig[:])
	default:
		// The kind is returned with the error so that a caller can hand the payload to
		// the package that owns that kind.
		return Record{Kind: rec.Kind}, &fieldError{kind: ErrUnknownKind,
			msg: "decode record: unknown record kind " + rec.Kind.String()}
	}
	if d.err == nil && d.off != len(payload) {
		d.fail("%d trailing bytes after the %s record", len(payload)-d.off, rec.Kind)
	}
	if d.err != nil {
		return Record{}, d.err
	}
	return rec, nil
}

// decoder reads a payload front to back. The first error sticks, and every read after it
// returns zero values, so that the record layouts read straight through without a check
// after each field.
type decoder struct {
	buf []byte
	str string // string(buf), created once for an assert record; decoded strings slice it
	off int
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = malformedf(format, args...)
	}
}

func (d *decoder) left() int { return len(d.buf) - d.off }

func (d *decoder) byte() byte {
	if d.err != nil || d.left() < 1 {
		d.fail("truncated at byte %d", d.off)
		return 0
	}
	d.off++
	return d.buf[d.off-1]
}

// flag reads a byte that must be 0 or 1.
func (d *decoder) flag(what string) bool {
	b := d.byte()
	if b > 1 {
		d.fail("%s byte %d at byte %d, want 0 or 1", what, b, d.off-1)
	}
	return b == 1
}

func (d *decoder) fixed(dst []byte) {
	if d.err != nil || d.left() < len(dst) {
		d.fail("truncated at byte %d", d.off)
		return
	}
	d.off += copy(dst, d.buf[d.off:])
}

func (d *decoder) u64() uint64 {
	var b [8]byte
	d.fixed(b[:])
	return binary.BigEndian.Uint64(b[:])
}

// uvarint reads a minimal unsigned LEB128 varint; a padded one (a last byte of 0x00 after
// a continuation) would decode to the same number but encode back differently, so it is
// refused.
func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf[d.off:])
	switch {
	case n == 0:
		d.fail("truncated varint at byte %d", d.off)
	case n < 0:
		d.fail("varint overflows 64 bits at byte %d", d.off)
	case n > 1 && d.buf[d.off+n-1] == 0:
		d.fail("non-minimal varint at byte %d", d.off)
	default:
		d.off += n
		return v
	}
	return 0
}

// count reads a count of items, each at least minLen bytes long, and refuses one that the
// rest of the payload could not hold: counts size allocations.
func (d *decoder) count(what string, minLen int) int {
	at := d.off
	n := d.uvarint()
	if d.err != nil {
		return 0
	}
	if n == 0 || n > uint64(d.left()/minLen) {
		d.fail("%s count %d at byte %d: want 1..%d for the %d bytes left", what, n, at, d.left()/minLen, d.left())
		return 0
	}
	return int(n)
}

func (d *decoder) string(what string) string {
	at := d.off
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(d.left()) {
		d.fail("%s length %d at byte %d exceeds the %d bytes left", what, n, at, d.left())
		return ""
	}
	s := d.str[d.off : d.off+int(n)]
	d.off += int(n)
	return s
}

func (d *decoder) assertions() []Assertion {
	n := d.count("assertion", minAssertionLen)
	if d.err != nil {
		return nil
	}
	as := make([]Assertion, n)
	// One backing array for every signature in the record; each assertion's slice is cut
	// from it once it has stopped growing.
	sigs := make([]Signature, 0, n)
	for i := range as {
		c := &as[i].Claim
		c.Subject = d.string("subject")
		c.Predicate = d.string("predicate")
		c.Object = d.object()
		c.Confidence = math.Float64frombits(d.u64())
		if d.flag("source flag") {
			d.fixed(c.Source[:])
			if d.err == nil && c.Source.IsZero() {
				d.fail("assertion %d: all-zero source written as present", i)
			}
		}
		ns := d.count("signature", minSigLen)
		for range ns {
			var s Signature
			d.fixed(s.Agent[:])
			d.fixed(s.Sig[:])
			s.Timestamp = d.uvarint()
			sigs = append(sigs, s)
		}
		as[i].Signatures = sigs[len(sigs)-ns:] // provisional: only its length is used below
		if d.err != nil {
			return nil
		}
	}
	off := 0
	for i := range as {
		k := len(as[i].Signatures)
		as[i].Signatures = sigs[off : off+k : off+k] // full cap: an append must not clobber the next
		off += k
	}
	return as
}

func (d *decoder) object() Object {
	o := Object{Type: ObjectType(d.byte())}
	switch o.Type {
	case TypeString, TypeEntity, TypeJSON:
		o.Text = d.string(o.Type.String())
	case TypeNumber:
		o.Number = math.Float64frombits(d.u64())
	case TypeBoolean:
		o.Bool = d.flag("boolean")
	case TypeTime:
		o.UnixNano = int64(d.u64())
	default:
		d.fail("unknown object type tag %d at byte %d", o.Type, d.off-1)
	}
	return o
}
