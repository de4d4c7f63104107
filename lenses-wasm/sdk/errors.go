package sdk

import (
	"errors"
	"strconv"
)

// opError is an "op: cause: detail" error built without fmt: linking fmt (and with it os)
// adds about 0.8 MB to every lens module and more wasi imports, for messages alone.
type opError struct {
	op     string
	err    error
	detail string
}

func (e *opError) Error() string {
	s := e.op + ": " + e.err.Error()
	if e.detail != "" {
		s += ": " + e.detail
	}
	return s
}

func (e *opError) Unwrap() error { return e.err }

func wrap(op string, err error, detail string) error {
	return &opError{op: op, err: err, detail: detail}
}

func itoa[T ~int | ~uint32](v T) string { return strconv.FormatInt(int64(v), 10) }

// panicError describes a recovered panic value without fmt.
func panicError(p any) error {
	switch v := p.(type) {
	case error:
		return v
	case string:
		return errors.New(v)
	default:
		return errors.New("non-error panic value")
	}
}

// errNotSupported marks requests the module cannot serve (unknown lens, foreign input).
var errNotSupported = errors.New("not supported")
