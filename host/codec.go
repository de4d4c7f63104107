package host

// EncodeInput returns groups in the ABI v1 input encoding, exactly as a lens receives
// them (agent table sorted by agent ID). It exists for guest-side test harnesses and
// tools: Lens.Resolve encodes on its own, with reused buffers.
func EncodeInput(groups []Group) ([]byte, error) {
	var e encoder
	b, err := e.encode(groups)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// DecodeOutput checks and decodes a result region (status word included) for groups,
// as Lens.Resolve does: an error status is ErrLensReported, anything malformed is
// ErrBadOutput.
func DecodeOutput(out []byte, groups []Group) ([][]int, error) {
	var d outputDecoder
	results := make([][]int, len(groups))
	if err := d.decode(out, groups, results); err != nil {
		return nil, err
	}
	return results, nil
}
