// Package assertion owns StemeDB's claim model: the types of a signed claim, their
// validation, the claim bytes and hash that give an assertion its identity, the Ed25519
// messages agents sign, and the encoding of the log records that carry acts. It does no I/O
// and holds no state: every function is safe for concurrent use.
//
// This comment is the byte-level contract. API.md §1 fixes the claim bytes and the signed
// messages; the log payload encoding is this package's own and is specified here. Changing
// any of these bytes changes hashes, breaks signatures or makes old logs unreadable: add a
// new version instead.
//
// # Notation
//
// All integers are big-endian unless said otherwise. str(x) is a u32 byte length followed by
// the bytes of x. f64 is the IEEE-754 bit pattern as a u64. uvarint is unsigned LEB128 as
// encoding/binary writes it (7 bits per byte, low group first, high bit = more follows).
//
// # Claim bytes and hash (API.md §1.1)
//
//	"stemedb/claim/v1" 0x00
//	str(subject)
//	str(predicate)
//	u8 tag, value            the object
//	f64 confidence           -0 is written as +0
//	32 bytes source hash     all zero when absent
//
// The object's tag and value bytes ([Object.AppendValueBytes]) are:
//
//	tag  type     value bytes
//	1    String   str(text)
//	2    Number   f64, -0 written as +0
//	3    Boolean  u8 0 or 1
//	4    Entity   str(text)
//	5    Time     i64 Unix nanoseconds (two's complement)
//	6    Json     str(RFC 8785 canonical JSON text)
//
// The assertion hash ([Claim.Hash]) is BLAKE3-256 of the claim bytes; the API writes it
// as 64 lowercase hex digits and reads either case.
//
// # Object values in JSON (API.md §1.1, §4)
//
// [ParseObject] reads the "value" of a request's "object"; [Object.AppendJSONValue] writes
// the value of an answer:
//
//   - String: any JSON string of valid Unicode, written back JSON-quoted (RFC 8785 escaping).
//   - Number: a finite JSON number, read as the nearest double (1e-400 reads as 0; 1e400 is
//     refused); written as the shortest text that reads back to the same double, in the
//     ECMAScript form of RFC 8785 (96.7, 1e+21, 1.5e-7; -0 as 0).
//   - Boolean: true or false.
//   - Entity: a non-empty JSON string of at most MaxSubject bytes (it names a subject).
//   - Time: RFC 3339, exactly YYYY-MM-DD("T"|"t")hh:mm:ss["."1–9 digits]("Z"|"z"|±hh:mm),
//     years 0000–9999, real calendar days, seconds 00–59 (no leap second), offsets up to
//     ±23:59 (-00:00 reads as UTC), and the instant must lie within int64 Unix nanoseconds
//     (1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z). Written in UTC
//     as time.RFC3339Nano writes it: 2024-01-02T03:04:05.5Z.
//   - Json: any JSON value with no repeated key in one object, valid Unicode and no number
//     beyond the range of a double, whose RFC 8785 canonical text is at most MaxJSON bytes;
//     stored and written back as that canonical text.
//
// A value of the wrong JSON type (a string for a Number) gives an error matching both
// [ErrJSONType] and [ErrInvalid]; every other refusal matches [ErrInvalid] only.
//
// # Signed messages (API.md §1.2)
//
//	assert   "stemedb/sig/v1" 0x00      32-byte hash  u64 timestamp
//	vote     "stemedb/vote/v1" 0x00     32-byte hash  i8 vote  u64 timestamp
//	retract  "stemedb/retract/v1" 0x00  32-byte hash  u64 timestamp
//
// Timestamps are Unix seconds chosen by the agent. Signatures are Ed25519 (RFC 8032) and
// verify as crypto/ed25519.Verify does.
//
// # Log record payloads, format version 1
//
// A payload is the body of one log record (the log adds its own length, CRC and hash
// framing, API.md §9). Every payload starts with two bytes:
//
//	u8 version   1
//	u8 kind      1 assert, 2 vote, 3 retract; 4–255 reserved for other owners' kinds
//
// followed by the kind's body:
//
//	assert     = uvarint n (n >= 1), then n assertions, in order
//	assertion  = bytes subject
//	             bytes predicate
//	             u8 tag, then: String/Entity/Json: bytes text; Number: f64 (bits as given,
//	                           -0 kept); Boolean: u8 0 or 1; Time: i64 Unix nanoseconds
//	             f64 confidence (bits as given)
//	             u8 0                      no source (all-zero source hash)
//	           | u8 1, 32 bytes source     a source hash that is not all zero
//	             uvarint m (m >= 1), then m signatures:
//	             32 bytes agent, 64 bytes signature, uvarint timestamp
//	vote       = 32 bytes assertion hash, 32 bytes agent, i8 vote, uvarint timestamp,
//	             64 bytes signature
//	retract    = 32 bytes assertion hash, 32 bytes agent, uvarint timestamp, 64 bytes signature
//	bytes      = uvarint length, then that many bytes
//
// An assert record holds the assertions of one request (a whole batch may be one record);
// they take effect together, in order. The encoding is canonical: varints are minimal and
// flags are 0 or 1, so a payload decodes to exactly one Record and that Record encodes back
// to the same bytes. [DecodeRecord] refuses anything else, including trailing bytes.
// Strings are stored as given (they were validated before they were written), so a change
// of limits never makes an old log unreadable.
//
// # Errors
//
// Request problems match [ErrInvalid] (API code invalid_request, or invalid_json when they
// also match [ErrJSONType]); bad keys and signatures match [ErrSignature] (invalid_signature).
// Their messages name the field by its JSON path ("signatures[1].agent_id: ...") and are
// meant for API users. Payload problems match [ErrMalformed] or [ErrUnknownKind].
package assertion
