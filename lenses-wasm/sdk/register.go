package sdk

// module is the guest's single lens module. A package-level value is unavoidable here:
// the host calls exported functions, and they can reach nothing else. It lives only in
// the guest, one per instance, and only one host goroutine uses an instance at a time.
var module struct {
	registry  Registry
	resolvers []Resolver // one per lens, so each keeps buffers sized for its own batches
	input     []byte     // the buffer handed out by stemedb_alloc
	names     []byte     // cached lens-name table
}

// Register adds a lens to this module. Call it from an init function: a reactor module's
// main is never run. It panics on an invalid or duplicate name, which makes the module
// fail to initialize, so the host refuses it with the message.
func Register(name string, rule Rule) {
	if err := module.registry.Add(name, rule); err != nil {
		panic(err)
	}
}
