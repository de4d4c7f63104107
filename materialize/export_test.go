package materialize

// SetSequential turns the dirty walk's pipeline off or on, so that tests and benchmarks
// can compare the two. Call it before Run.
func SetSequential(m *Materializer, on bool) { m.sequential = on }
