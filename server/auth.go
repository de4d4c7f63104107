package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/stemedb/stemedb/api"
)

// requireAdmin lets a request through to next only with `Authorization: Bearer <token>`
// matching Config.AdminToken (API.md §7); anything else is 401 unauthorized, before the
// body is read, so that an anonymous client cannot make the server swallow a 16 MiB
// upload. With no token configured every admin request is refused: an admin endpoint is
// never open by omission.
func (s *Server) requireAdmin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.adminAuthorized(r) {
			// RFC 6750 §3: tell the client which scheme to use.
			w.Header().Set("WWW-Authenticate", `Bearer realm="stemedb admin"`)
			s.writeError(w, r, api.Errorf(api.CodeUnauthorized,
				"this endpoint needs the admin token: send Authorization: Bearer <token>"))
			return
		}
		next(w, r)
	}
}

// adminAuthorized compares the request's bearer token with the configured one in
// constant time. Both are hashed first, so that neither the comparison's time nor an
// early return on a length mismatch tells a guesser anything about the token's length.
func (s *Server) adminAuthorized(r *http.Request) bool {
	if s.cfg.AdminToken == "" {
		return false
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	want := sha256.Sum256([]byte(s.cfg.AdminToken))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}
