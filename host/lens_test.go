package host_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/host"
)

// oneGroup is a batch of one group with n candidates.
func oneGroup(n int) []host.Group {
	g := host.Group{Subject: "s", Predicate: "p"}
	for i := range n {
		g.Candidates = append(g.Candidates, host.Candidate{
			Hash: [32]byte{byte(i)}, Object: []byte{3, 1}, Confidence: 1,
			Signers: []host.Signer{{Agent: [32]byte{1}, Timestamp: 1, Trust: 1}},
		})
	}
	return []host.Group{g}
}

func loadLens(t *testing.T, rt *host.Runtime, wasm []byte, name string) *host.Lens {
	t.Helper()
	m, err := rt.Load(context.Background(), wasm)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, m.Close(context.Background())) })
	l, err := m.Lens(name)
	require.NoError(t, err)
	return l
}

func TestLens_Output(t *testing.T) {
	tests := []struct {
		name    string
		out     []byte
		want    [][]int
		wantErr error
		msg     string
	}{
		{name: "ok", out: u32s(0, 2, 2, 0), want: [][]int{{2, 0}}},
		{name: "no winner", out: u32s(0, 0), want: [][]int{nil}},
		{name: "index out of range", out: u32s(0, 1, 3), wantErr: host.ErrBadOutput, msg: "index 3 of 3"},
		{name: "index twice", out: u32s(0, 2, 1, 1), wantErr: host.ErrBadOutput, msg: "index 1 twice"},
		{name: "too many winners", out: u32s(0, 4, 0, 1, 2, 0), wantErr: host.ErrBadOutput},
		{name: "trailing bytes", out: u32s(0, 1, 0, 7), wantErr: host.ErrBadOutput, msg: "trailing"},
		{name: "truncated", out: u32s(0, 2, 0), wantErr: host.ErrBadOutput},
		{name: "no status", out: nil, wantErr: host.ErrBadOutput, msg: "no status"},
		{name: "unknown status", out: u32s(7), wantErr: host.ErrBadOutput, msg: "status 7"},
		{name: "guest error", out: append(u32s(1), "no \x00quorum"...), wantErr: host.ErrLensReported, msg: "no  quorum"},
	}
	rt := newRuntime(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := loadLens(t, rt, fixedOutput(tt.out), "Fixed")
			got, err := l.Resolve(context.Background(), oneGroup(3))
			if tt.wantErr == nil {
				require.NoError(t, err)
				require.Equal(t, tt.want, got)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			require.ErrorContains(t, err, tt.msg)
			var le *host.LensError
			require.ErrorAs(t, err, &le)
			require.Equal(t, "Fixed", le.Lens)
		})
	}
}

func TestLens_OutputPointerOutsideMemory(t *testing.T) {
	rt := newRuntime(t, nil)
	l := loadLens(t, rt, lensModule(i64Const(0x7fff_0000<<32|16)).bytes(), "Fixed")
	_, err := l.Resolve(context.Background(), oneGroup(1))
	require.ErrorIs(t, err, host.ErrBadOutput)
	require.ErrorContains(t, err, "outside memory")
}

// counterModule counts calls in a global, traps on the second call of an instance, and
// otherwise answers with the call number - 1 as the single winner: a retired instance
// shows as a count that starts over.
func counterModule() []byte {
	body := cat(
		[]byte{0x23, 0}, i32Const(1), []byte{0x6a, 0x24, 0}, // g0 += 1
		[]byte{0x23, 0}, i32Const(2), []byte{0x46, 0x04, 0x40}, opUnreachable, []byte{0x0b}, // if g0 == 2: trap
		i32Const(8), []byte{0x23, 0}, i32Const(1), []byte{0x6b}, []byte{0x36, 2, 0}, // mem[8] = g0 - 1
		i64Const(12),
	)
	m := lensModule(body)
	m.data = append(m.data, dataSegment{offset: 0, bytes: u32s(0, 1)})
	return m.bytes()
}

func TestLens_TrapRetiresInstance(t *testing.T) {
	rt := newRuntime(t, func(c host.Config) host.Config { return c.WithPoolSize(1) })
	l := loadLens(t, rt, counterModule(), "Fixed")
	ctx := context.Background()

	got, err := l.Resolve(ctx, oneGroup(5))
	require.NoError(t, err)
	require.Equal(t, [][]int{{0}}, got)

	_, err = l.Resolve(ctx, oneGroup(5))
	require.ErrorIs(t, err, host.ErrTrap)
	require.ErrorContains(t, err, "unreachable")

	got, err = l.Resolve(ctx, oneGroup(5))
	require.NoError(t, err)
	require.Equal(t, [][]int{{0}}, got, "a fresh instance counts from 1 again")
}

func TestLens_HandWrittenLimits(t *testing.T) {
	growForever := cat([]byte{0x03, 0x40}, i32Const(1), []byte{0x40, 0x00}, i32Const(-1), []byte{0x47, 0x0d, 0x00, 0x0b}, opUnreachable, i64Const(0))
	tests := []struct {
		name    string
		resolve []byte
		want    error
	}{
		{name: "infinite loop", resolve: cat(opLoopForever, i64Const(0)), want: host.ErrTimeout},
		{name: "memory exhausted", resolve: growForever, want: host.ErrOutOfMemory},
		{name: "trap", resolve: cat(opUnreachable, i64Const(0)), want: host.ErrTrap},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, func(c host.Config) host.Config {
				return c.WithCallTimeout(100 * time.Millisecond).WithMemoryLimitPages(64)
			})
			l := loadLens(t, rt, lensModule(tt.resolve).bytes(), "Fixed")
			start := time.Now()
			_, err := l.Resolve(context.Background(), oneGroup(2))
			require.ErrorIs(t, err, tt.want)
			require.Less(t, time.Since(start), 5*time.Second)
		})
	}
}

func TestLens_CallerCancels(t *testing.T) {
	rt := newRuntime(t, nil)
	l := loadLens(t, rt, lensModule(cat(opLoopForever, i64Const(0))).bytes(), "Fixed")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := l.Resolve(ctx, oneGroup(1))
		done <- err
	}()
	cancel()
	err := <-done
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, host.ErrTimeout)
}

// TestLens_GoGuest runs misbehaving lenses written with the SDK, as uploads would be.
func TestLens_GoGuest(t *testing.T) {
	wasm := badLensModule(t)
	tests := []struct {
		lens    string
		timeout time.Duration
		want    error
		msg     string
	}{
		{lens: "Panic", want: host.ErrLensReported, msg: "panic: boom"},
		{lens: "BadIndex", want: host.ErrLensReported, msg: "index 2 of 2 candidates"},
		{lens: "Spin", timeout: 300 * time.Millisecond, want: host.ErrTimeout},
		{lens: "Hog", want: host.ErrOutOfMemory},
	}
	for _, tt := range tests {
		t.Run(tt.lens, func(t *testing.T) {
			rt := newRuntime(t, func(c host.Config) host.Config {
				if tt.timeout > 0 {
					c = c.WithCallTimeout(tt.timeout)
				}
				return c.WithMemoryLimitPages(256)
			})
			l := loadLens(t, rt, wasm, tt.lens)
			_, err := l.Resolve(context.Background(), oneGroup(2))
			require.ErrorIs(t, err, tt.want)
			require.ErrorContains(t, err, tt.msg)
			require.ErrorContains(t, err, "lens "+tt.lens+":")

			first := loadLens(t, rt, wasm, "first") // case-insensitive
			got, err := first.Resolve(context.Background(), oneGroup(2))
			require.NoError(t, err, "the module's other lenses still work")
			require.Equal(t, [][]int{{0}}, got)
		})
	}
}

func TestModule_Lens(t *testing.T) {
	rt := newRuntime(t, nil)
	m, err := rt.Load(context.Background(), fixedOutput(u32s(0)))
	require.NoError(t, err)
	_, err = m.Lens("nope")
	require.ErrorIs(t, err, host.ErrUnknownLens)
	l, err := m.Lens("FIXED")
	require.NoError(t, err)
	require.Equal(t, "Fixed", l.Name())

	require.NoError(t, m.Close(context.Background()))
	_, err = l.Resolve(context.Background(), oneGroup(1))
	require.ErrorIs(t, err, host.ErrClosed)
}

func TestLens_EmptyBatch(t *testing.T) {
	rt := newRuntime(t, nil)
	l := loadLens(t, rt, lensModule(opUnreachable).bytes(), "Fixed")
	got, err := l.Resolve(context.Background(), nil)
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestLens_BadInput(t *testing.T) {
	rt := newRuntime(t, nil)
	l := loadLens(t, rt, fixedOutput(u32s(0, 0)), "Fixed")
	g := oneGroup(1)
	g[0].Candidates[0].Signers[0].Trust = nanValue()
	_, err := l.Resolve(context.Background(), g)
	require.ErrorIs(t, err, host.ErrBadInput)
}

func nanValue() float64 {
	zero := 0.0
	return zero / zero
}
