package assertion

import (
	"errors"
	"fmt"
)

// The sentinel errors. Every error that Validate, ParseObject and the Parse… helpers return
// matches exactly one of ErrInvalid and ErrSignature under errors.Is, so that the HTTP layer
// can choose the error code without reading messages; the message itself names the field.
var (
	// ErrInvalid marks a request that is malformed or out of range: API code invalid_request.
	ErrInvalid = errors.New("invalid request")

	// ErrJSONType marks a field whose JSON type is wrong for it (a string where a number
	// belongs): API.md §2 gives such a field the code invalid_json. It wraps ErrInvalid,
	// so a caller that only knows ErrInvalid still classifies it as a bad request.
	ErrJSONType = fmt.Errorf("%w: wrong JSON type", ErrInvalid)

	// ErrSignature marks a signature that does not verify, or a malformed agent id or
	// signature: API code invalid_signature.
	ErrSignature = errors.New("invalid signature")

	// ErrMalformed marks a log payload that DecodeRecord cannot read: a corrupt or
	// truncated record, or one written by a newer format version.
	ErrMalformed = errors.New("malformed record payload")

	// ErrUnknownKind marks a payload with a known version but a record kind that this
	// package does not own; the log may hold other kinds (see Kind), which their owners decode.
	ErrUnknownKind = errors.New("unknown record kind")
)

// fieldError is a sentinel plus a human message that names the field. The message is kept
// free of the sentinel's own text because it goes to API users verbatim.
type fieldError struct {
	kind error
	msg  string
}

func (e *fieldError) Error() string { return e.msg }
func (e *fieldError) Unwrap() error { return e.kind }

func invalidf(format string, args ...any) error {
	return &fieldError{kind: ErrInvalid, msg: fmt.Sprintf(format, args...)}
}

func jsonTypef(format string, args ...any) error {
	return &fieldError{kind: ErrJSONType, msg: fmt.Sprintf(format, args...)}
}

func signaturef(format string, args ...any) error {
	return &fieldError{kind: ErrSignature, msg: fmt.Sprintf(format, args...)}
}

func malformedf(format string, args ...any) error {
	return &fieldError{kind: ErrMalformed, msg: "decode record: " + fmt.Sprintf(format, args...)}
}

// within puts a field path in front of a fieldError's message, keeping its sentinel, so that
// nested checks can name the full path of the bad field: within("signatures[2].", err)
// turns "timestamp: ..." into "signatures[2].timestamp: ...".
func within(path string, err error) error {
	if fe, ok := err.(*fieldError); ok {
		return &fieldError{kind: fe.kind, msg: path + fe.msg}
	}
	return fmt.Errorf("%s%w", path, err)
}
