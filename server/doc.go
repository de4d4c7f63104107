// Package server is StemeDB's HTTP layer: routes (gorilla/mux), the one error path that maps
// coded errors to statuses, body limits, authentication and back-pressure.
//
// It stays thin: handlers decode with package api, call the claim model, the log and the
// views, and encode the answer. It knows no storage details beyond the errors they return.
package server
