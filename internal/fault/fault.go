// Package fault holds trek's one error type. Every layer returns a *fault.Error
// (or wraps one) when the caller did something wrong; adapters translate the
// code into their own vocabulary (HTTP status, CLI exit code) in one place.
package fault

import (
	"errors"
	"fmt"
	"strings"
)

// Code classifies an error by what the caller can do about it.
type Code string

const (
	Invalid         Code = "invalid"         // the input is wrong; Fields says where
	NotFound        Code = "not_found"       // the thing asked for does not exist (or is not visible)
	Conflict        Code = "conflict"        // the write was based on stale state, or collides
	Unauthenticated Code = "unauthenticated" // no or bad credentials
	Forbidden       Code = "forbidden"       // credentials fine, role too low
	TooLarge        Code = "too_large"       // a size limit was passed
	RateLimited     Code = "rate_limited"    // too many requests; try later
	Unavailable     Code = "unavailable"     // trek cannot serve now (overload, disk)
	Internal        Code = "internal"        // a bug or an I/O failure; details stay in the log
)

// FieldError names one offending field by its JSON path (for example
// "stages[0].steps[2].emotion.score").
type FieldError struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// Error is the error type shared by every trek package.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	// Current carries extra context safe to show the client, e.g. the current
	// version of a map on a conflict.
	Current any
	Err     error // the cause, for logs only; never shown to clients
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Path, f.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// New makes an error with a code and a message for the client.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Fields makes an Invalid error listing every offending field.
func Fields(msg string, fields []FieldError) *Error {
	return &Error{Code: Invalid, Message: msg, Fields: fields}
}

// CodeOf returns the code of the first *Error in err's chain, or Internal.
func CodeOf(err error) Code {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	return Internal
}

// As returns the first *Error in err's chain.
func As(err error) (*Error, bool) {
	var fe *Error
	ok := errors.As(err, &fe)
	return fe, ok
}
