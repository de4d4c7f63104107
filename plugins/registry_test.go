package plugins_test

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/zeebo/blake3"

	"github.com/stemedb/stemedb/host"
	lenseswasm "github.com/stemedb/stemedb/lenses-wasm"
	"github.com/stemedb/stemedb/plugins"
)

func hashOf(wasm []byte) string {
	sum := blake3.Sum256(wasm)
	return hex.EncodeToString(sum[:])
}

// norm makes nil and empty results compare equal.
func norm(rs [][]int) [][]int {
	out := make([][]int, len(rs))
	for i, r := range rs {
		if len(r) > 0 {
			out[i] = r
		}
	}
	return out
}

// clock is a fake Options.Now that advances one second per call.
func clock() func() time.Time {
	t := time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.UTC)
	return func() time.Time { t = t.Add(time.Second); return t }
}

func TestRegistry_Builtins(t *testing.T) {
	t.Parallel()
	r := open(t, t.TempDir(), newRuntime(t, nil), plugins.Options{})
	hash := hashOf(lenseswasm.Builtins())

	list := r.List()
	require.Len(t, list, 6)
	for i, name := range host.BuiltinNames() {
		require.Equal(t, plugins.Info{
			Name: name, Version: 1, Hash: hash, Lens: name, BuiltIn: true, Materialized: true, State: plugins.StateLive,
		}, list[i])
	}
	canon, ok := r.Canonical("voteawareCONSENSUS")
	require.True(t, ok)
	require.Equal(t, "VoteAwareConsensus", canon)

	info, versions, err := r.Get("all")
	require.NoError(t, err)
	require.Equal(t, "All", info.Name)
	require.Equal(t, []plugins.Version{{Version: 1, Hash: hash, Lens: "All", Size: len(lenseswasm.Builtins()), Materialized: true}}, versions)

	got, err := resolve(t, r, "latest", "s")
	require.NoError(t, err)
	require.Equal(t, latestWinners, got)
	require.Len(t, r.Materialized(), 6)

	_, err = r.Upload(context.Background(), "consensus", module(t, soloLens), true)
	require.ErrorIs(t, err, plugins.ErrBuiltin)
	require.ErrorIs(t, r.Delete(context.Background(), "TrustWeighted"), plugins.ErrBuiltin)
}

func TestRegistry_UploadListGetResolve(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := open(t, dir, newRuntime(t, nil), plugins.Options{Now: clock()})
	wasm := module(t, multiLens)
	ctx := context.Background()

	info, err := r.Upload(ctx, "Pick", wasm, true)
	require.NoError(t, err)
	want := plugins.Info{
		Name: "Pick", Version: 1, Hash: hashOf(wasm), Lens: "Pick", Materialized: true,
		UploadedAt: time.Date(2025, 1, 2, 3, 4, 6, 123456789, time.UTC), State: plugins.StateLive,
	}
	require.Equal(t, want, info)

	list := r.List()
	require.Len(t, list, 7)
	require.Equal(t, want, list[6])
	got, versions, err := r.Get("PICK")
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.Equal(t, []plugins.Version{{Version: 1, Hash: hashOf(wasm), Lens: "Pick", Size: len(wasm), UploadedAt: want.UploadedAt, Materialized: true}}, versions)
	canon, ok := r.Canonical("pIcK")
	require.True(t, ok)
	require.Equal(t, "Pick", canon)

	res, rinfo, err := r.Resolver("pick")
	require.NoError(t, err)
	require.Equal(t, want, rinfo)
	winners, err := res.Resolve(ctx, testGroups("s"))
	require.NoError(t, err)
	require.Equal(t, pickWinners, winners)
	require.Same(t, res, r.Materialized()["Pick"])

	require.ElementsMatch(t, []string{"manifest.json", "modules/" + hashOf(wasm) + ".wasm"}, files(t, dir))
	stored, err := os.ReadFile(filepath.Join(dir, "modules", hashOf(wasm)+".wasm"))
	require.NoError(t, err)
	require.Equal(t, wasm, stored)

	// Not materialized: resolvable, but not in the materializer's set.
	_, err = r.Upload(ctx, "Nobody", wasm, false)
	require.NoError(t, err)
	require.NotContains(t, r.Materialized(), "Nobody")
	winners, err = resolve(t, r, "nobody", "s")
	require.NoError(t, err)
	require.Equal(t, nobodyWinners, norm(winners))
	require.Len(t, files(t, dir), 2, "one module file for two names")
}

func TestRegistry_NewVersion(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := open(t, dir, newRuntime(t, nil), plugins.Options{Now: clock()})
	ctx := context.Background()
	multi, solo := module(t, multiLens), module(t, soloLens)

	v1, err := r.Upload(ctx, "Pick", multi, true)
	require.NoError(t, err)
	old, _, err := r.Resolver("Pick")
	require.NoError(t, err)
	changed := r.Subscribe(ctx)

	// The second upload under any spelling is version 2 of the same name; sololens has
	// one lens, so it serves under a name it does not declare.
	v2, err := r.Upload(ctx, "PICK", solo, false)
	require.NoError(t, err)
	require.Equal(t, "Pick", v2.Name, "the first upload's spelling stays")
	require.Equal(t, 2, v2.Version)
	require.Equal(t, "Solo", v2.Lens)
	require.Equal(t, hashOf(solo), v2.Hash)
	signalled(t, changed)

	info, versions, err := r.Get("pick")
	require.NoError(t, err)
	require.Equal(t, v2, info)
	require.Len(t, versions, 2)
	require.Equal(t, plugins.Version{Version: 1, Hash: v1.Hash, Lens: "Pick", Size: len(multi), UploadedAt: v1.UploadedAt, Materialized: true}, versions[0])
	require.Equal(t, plugins.Version{Version: 2, Hash: v2.Hash, Lens: "Solo", Size: len(solo), UploadedAt: v2.UploadedAt}, versions[1])

	got, err := resolve(t, r, "Pick", "s")
	require.NoError(t, err)
	require.Equal(t, soloWinners, got)
	require.NotContains(t, r.Materialized(), "Pick", "version 2 is not materialized")

	_, err = old.Resolve(ctx, testGroups("s"))
	require.ErrorIs(t, err, plugins.ErrRetired)
	var re *plugins.ResolveError
	require.ErrorAs(t, err, &re)
	require.Equal(t, plugins.ResolveError{Name: "Pick", Version: 1, Err: re.Err}, *re)

	require.ElementsMatch(t, []string{"manifest.json", "modules/" + v1.Hash + ".wasm", "modules/" + v2.Hash + ".wasm"}, files(t, dir), "history keeps its modules")
}

func TestRegistry_MultiLensModule(t *testing.T) {
	t.Parallel()
	r := open(t, t.TempDir(), newRuntime(t, nil), plugins.Options{})
	ctx := context.Background()
	wasm := module(t, multiLens)
	for _, tt := range []struct{ upload, lens string }{
		{"pick", "Pick"}, {"NOBODY", "Nobody"}, {"Fragile", "Fragile"},
	} {
		info, err := r.Upload(ctx, tt.upload, wasm, true)
		require.NoError(t, err)
		require.Equal(t, tt.upload, info.Name)
		require.Equal(t, tt.lens, info.Lens)
	}
	_, err := r.Upload(ctx, "Other", wasm, true)
	require.ErrorIs(t, err, host.ErrInvalidModule)
	require.ErrorContains(t, err, `the module holds 3 lenses (Pick, Nobody, Fragile) and none is called "Other"`)
}

func TestRegistry_Restart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rt := newRuntime(t, nil)
	ctx := context.Background()
	multi, solo := module(t, multiLens), module(t, soloLens)

	r1, err := plugins.Open(ctx, dir, rt, plugins.Options{Now: clock()})
	require.NoError(t, err)
	_, err = r1.Upload(ctx, "Pick", multi, true)
	require.NoError(t, err)
	_, err = r1.Upload(ctx, "Pick", solo, true)
	require.NoError(t, err)
	_, err = r1.Upload(ctx, "Nobody", multi, false)
	require.NoError(t, err)
	_, err = r1.Upload(ctx, "Gone", solo, true)
	require.NoError(t, err)
	require.NoError(t, r1.Delete(ctx, "gone"))
	list := r1.List()
	_, pickVersions, err := r1.Get("Pick")
	require.NoError(t, err)
	require.NoError(t, r1.Close(ctx))

	_, err = r1.Upload(ctx, "Late", solo, true)
	require.ErrorIs(t, err, plugins.ErrClosed)

	r2 := open(t, dir, rt, plugins.Options{})
	require.Equal(t, list, r2.List())
	_, versions, err := r2.Get("pick")
	require.NoError(t, err)
	require.Equal(t, pickVersions, versions)
	got, err := resolve(t, r2, "Pick", "s")
	require.NoError(t, err)
	require.Equal(t, soloWinners, got)
	got, err = resolve(t, r2, "Nobody", "s")
	require.NoError(t, err)
	require.Equal(t, nobodyWinners, norm(got))
	_, ok := r2.Canonical("Gone")
	require.False(t, ok)

	// The deleted name's history continues.
	info, err := r2.Upload(ctx, "gone", solo, true)
	require.NoError(t, err)
	require.Equal(t, "Gone", info.Name)
	require.Equal(t, 2, info.Version)
}

func TestRegistry_Delete(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := open(t, dir, newRuntime(t, nil), plugins.Options{})
	ctx := context.Background()
	wasm := module(t, multiLens)
	_, err := r.Upload(ctx, "Pick", wasm, true)
	require.NoError(t, err)
	res, _, err := r.Resolver("Pick")
	require.NoError(t, err)
	changed := r.Subscribe(ctx)

	require.NoError(t, r.Delete(ctx, "PICK"))
	signalled(t, changed)
	require.Len(t, r.List(), 6)
	require.NotContains(t, r.Materialized(), "Pick")
	_, ok := r.Canonical("Pick")
	require.False(t, ok)
	_, _, err = r.Resolver("Pick")
	require.ErrorIs(t, err, plugins.ErrNotFound)
	_, _, err = r.Get("Pick")
	require.ErrorIs(t, err, plugins.ErrNotFound)
	_, err = res.Resolve(ctx, testGroups("s"))
	require.ErrorIs(t, err, plugins.ErrRetired)
	require.ErrorIs(t, r.Delete(ctx, "Pick"), plugins.ErrNotFound)
	require.ErrorIs(t, r.Delete(ctx, "Never"), plugins.ErrNotFound)
	require.ErrorIs(t, r.Delete(ctx, "consensus"), plugins.ErrBuiltin)
	require.Contains(t, files(t, dir), "modules/"+hashOf(wasm)+".wasm", "history keeps its module")
}

func TestRegistry_Subscribe(t *testing.T) {
	t.Parallel()
	r := open(t, t.TempDir(), newRuntime(t, nil), plugins.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	changed := r.Subscribe(ctx)
	_, err := r.Upload(ctx, "Pick", module(t, multiLens), true)
	require.NoError(t, err)
	_, err = r.Upload(ctx, "Nobody", module(t, multiLens), true)
	require.NoError(t, err)
	signalled(t, changed) // two changes, one pending signal
	select {
	case <-changed:
		t.Fatal("signals coalesce")
	default:
	}
	cancel()
	for range changed { // closed once ctx is done
	}

	closing := r.Subscribe(context.Background())
	require.NoError(t, r.Close(context.Background()))
	_, ok := <-closing
	require.False(t, ok, "closed with the registry")
}
