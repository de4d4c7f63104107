package api

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes of API.md §2.
const (
	CodeInvalidJSON      = "invalid_json"
	CodeInvalidRequest   = "invalid_request"
	CodeInvalidSignature = "invalid_signature"
	CodeSQLError         = "sql_error"
	CodeSQLTimeout       = "sql_timeout"
	CodeInvalidModule    = "invalid_module"
	CodeUnauthorized     = "unauthorized"
	CodeSQLForbidden     = "sql_forbidden"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeConflict         = "conflict"
	CodeTooLarge         = "too_large"
	CodeOverloaded       = "overloaded"
	CodeUnavailable      = "unavailable"
	CodeInternal         = "internal"
	CodeLensFailed       = "lens_failed"
)

// statusByCode is the one table that maps a code to its HTTP status.
var statusByCode = map[string]int{
	CodeInvalidJSON:      http.StatusBadRequest,
	CodeInvalidRequest:   http.StatusBadRequest,
	CodeInvalidSignature: http.StatusBadRequest,
	CodeSQLError:         http.StatusBadRequest,
	CodeSQLTimeout:       http.StatusBadRequest,
	CodeInvalidModule:    http.StatusBadRequest,
	CodeUnauthorized:     http.StatusUnauthorized,
	CodeSQLForbidden:     http.StatusForbidden,
	CodeNotFound:         http.StatusNotFound,
	CodeMethodNotAllowed: http.StatusMethodNotAllowed,
	CodeConflict:         http.StatusConflict,
	CodeTooLarge:         http.StatusRequestEntityTooLarge,
	CodeOverloaded:       http.StatusTooManyRequests,
	CodeUnavailable:      http.StatusServiceUnavailable,
	CodeInternal:         http.StatusInternalServerError,
	CodeLensFailed:       http.StatusInternalServerError,
}

// Error is the coded error of API.md §2. Handlers return it; one function writes it.
type Error struct {
	Code    string      `json:"code"`
	Message string      `json:"message"`
	Items   []ItemError `json:"items,omitempty"`
	// RetryAfter, in seconds, is sent as the Retry-After header with 429 and 503.
	RetryAfter int `json:"-"`
}

// ItemError names one bad item of a batch by its index.
type ItemError struct {
	Index   int    `json:"index"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ErrorBody is the JSON body of every non-2xx answer.
type ErrorBody struct {
	Error *Error `json:"error"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Status is the HTTP status for the error's code; unknown codes are server faults.
func (e *Error) Status() int {
	if s, ok := statusByCode[e.Code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Errorf builds an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// AsError finds the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}
