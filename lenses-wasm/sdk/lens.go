package sdk

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
)

// Rule picks the winners of one group: indices into g.Candidates, best first, each at
// most once; an empty result means "no winner". The SDK copies the result before the
// next call, so a rule may return a slice it reuses.
type Rule func(g *Group) []int

// Lens is a named rule.
type Lens struct {
	Name string
	Rule Rule
}

// ErrBadResult reports a rule that returned an index out of range or an index twice.
var ErrBadResult = errors.New("bad result")

// validName reports whether name follows the lens name syntax [A-Za-z][A-Za-z0-9_-]{0,63}.
func validName(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
		if i == 0 && !letter {
			return false
		}
		if !letter && !(c >= '0' && c <= '9') && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// Registry holds the lenses of one module, in registration order: the lens index the host
// passes to stemedb_resolve is a position in it.
type Registry struct {
	lenses []Lens
}

// Add registers a lens. It fails on an invalid name or a name already taken (names are
// compared case-insensitively, as the server matches them).
func (r *Registry) Add(name string, rule Rule) error {
	if !validName(name) {
		return errors.New("register " + strconv.Quote(name) + ": name must match [A-Za-z][A-Za-z0-9_-]{0,63}")
	}
	if rule == nil {
		return errors.New("register " + strconv.Quote(name) + ": nil rule")
	}
	for _, l := range r.lenses {
		if strings.EqualFold(l.Name, name) {
			return errors.New("register " + strconv.Quote(name) + ": name taken by " + strconv.Quote(l.Name))
		}
	}
	r.lenses = append(r.lenses, Lens{Name: name, Rule: rule})
	return nil
}

// Lenses returns the registered lenses in registration order.
func (r *Registry) Lenses() []Lens { return r.lenses }

// AppendNames appends the lens-name table of stemedb_lenses: u32 count, then per lens
// u32 length and the UTF-8 name.
func (r *Registry) AppendNames(out []byte) []byte {
	out = binary.LittleEndian.AppendUint32(out, uint32(len(r.lenses)))
	for _, l := range r.lenses {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(l.Name)))
		out = append(out, l.Name...)
	}
	return out
}

// Resolver runs one lens over encoded batches, reusing its memory from batch to batch.
// It is the pure core of stemedb_resolve, usable natively in tests.
type Resolver struct {
	batch Batch
	seen  []uint32 // per candidate index: the epoch of the last group that used it
	epoch uint32   // bumped per group, so seen never needs clearing (until it wraps)
	out   []byte
}

// Resolve decodes in, runs rule on every group and returns the result region: the OK
// status followed by each group's winners, or the error status and a message. The
// returned slice is reused by the next call. A panicking rule becomes an error result.
func (r *Resolver) Resolve(rule Rule, in []byte) []byte {
	if err := r.resolve(rule, in); err != nil {
		r.out = AppendError(r.out, err)
	}
	return r.out
}

func (r *Resolver) resolve(rule Rule, in []byte) (err error) {
	if err := r.batch.Decode(in); err != nil {
		return err
	}
	r.out = binary.LittleEndian.AppendUint32(r.out[:0], StatusOK)
	g := 0
	defer func() {
		if p := recover(); p != nil {
			err = wrap("group "+itoa(g)+": panic", panicError(p), "")
		}
	}()
	for g = range r.batch.Groups {
		grp := &r.batch.Groups[g]
		winners := rule(grp)
		if err := r.check(g, len(grp.Candidates), winners); err != nil {
			return err
		}
		r.out = AppendWinners(r.out, winners)
	}
	return nil
}

// check refuses indices out of range and duplicates, so that a buggy rule gets a clear
// message from its own module rather than a bare "bad output" from the host.
func (r *Resolver) check(g, n int, winners []int) error {
	if len(winners) > n {
		return wrap("group "+itoa(g), ErrBadResult, itoa(len(winners))+" winners for "+itoa(n)+" candidates")
	}
	if cap(r.seen) < n {
		r.seen = make([]uint32, n)
	}
	seen := r.seen[:n]
	r.epoch++
	if r.epoch == 0 { // wrapped: old marks could collide
		clear(r.seen[:cap(r.seen)])
		r.epoch = 1
	}
	mark := r.epoch
	for _, w := range winners {
		if w < 0 || w >= n {
			return wrap("group "+itoa(g), ErrBadResult, "index "+itoa(w)+" of "+itoa(n)+" candidates")
		}
		if seen[w] == mark {
			return wrap("group "+itoa(g), ErrBadResult, "index "+itoa(w)+" twice")
		}
		seen[w] = mark
	}
	return nil
}
