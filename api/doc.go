// Package api holds StemeDB's wire contract (API.md): the JSON shapes of requests and
// answers, their strict decoding, and the coded Error every non-2xx answer carries.
//
// The server and the Go client share it, so both sides of the wire agree by construction.
// Decoding is strict on purpose: unknown members, duplicate keys, invalid UTF-8 and lone
// surrogate escapes are refused, because a claim's bytes are signed and two readings of one
// body must never exist.
package api
