//go:build linux

package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ringSyncer runs fdatasync through an io_uring, and waits for it in the network poller.
//
// Why: a plain fdatasync blocks the OS thread that runs the committer, together with the
// Go processor (P) it holds, for the whole flush; the scheduler takes that P back only
// on a sysmon tick. On the 2-core development VM, behind the HTTP server (64 clients),
// that left 10-15% of the CPU idle with ten times the context switches of a handler that
// skips the log. With the fsync replaced by a sleep of similar length (measuring only
// the group commit) the server ran at 0.95x that handler; with fdatasync at 0.66x
// (GOMAXPROCS=2) or 0.71-0.79x (3); through the ring at 0.81-0.86x (package doc). Through
// the ring the flush runs in a kernel worker, and the committer parks like a goroutine
// waiting for a socket.
//
// Only the committer uses a ringSyncer, one operation at a time, so it needs no lock.
type ringSyncer struct {
	fd     int
	rings  []byte // the submission and completion rings (one mapping, FEAT_SINGLE_MMAP)
	sqes   []byte
	event  *os.File // eventfd the kernel signals on each completion
	sqTail *uint32
	sqMask uint32
	sqArr  uintptr // offset of the submission index array in rings
	cqHead *uint32
	cqTail *uint32
	cqMask uint32
	cqes   uintptr // offset of the completion entries in rings
	seq    uint64
}

// io_uring ABI constants (include/uapi/linux/io_uring.h).
const (
	ringOffSQRing       = 0
	ringOffSQEs         = 0x10000000
	ringFeatSingleMMap  = 1 << 0
	ringOpFsync         = 3
	ringFsyncDatasync   = 1 << 0
	ringRegisterEventFD = 4
	ringSQESize         = 64
	ringCQESize         = 16
	ringParamsSize      = 120
	ringEntries         = 4
)

// newRingSyncer sets up a small ring. It fails where io_uring is missing or forbidden
// (old kernels, kernel.io_uring_disabled, container seccomp profiles); the caller then
// falls back to fdatasync.
func newRingSyncer() (*ringSyncer, error) {
	var p [ringParamsSize]byte
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, ringEntries, uintptr(unsafe.Pointer(&p[0])), 0)
	if errno != 0 {
		return nil, fmt.Errorf("io_uring_setup: %w", errno)
	}
	r := &ringSyncer{fd: int(fd)}
	if err := r.mapRings(p[:]); err != nil {
		r.close()
		return nil, err
	}
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		r.close()
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	// A non-blocking descriptor given to os.NewFile joins the runtime's poller, so a Read
	// parks the goroutine instead of blocking a thread.
	r.event = os.NewFile(uintptr(efd), "io_uring-eventfd")
	arg := int32(efd)
	if _, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), ringRegisterEventFD,
		uintptr(unsafe.Pointer(&arg)), 1, 0, 0); errno != 0 {
		r.close()
		return nil, fmt.Errorf("io_uring_register eventfd: %w", errno)
	}
	return r, nil
}

// mapRings maps the rings described by the setup parameters p.
func (r *ringSyncer) mapRings(p []byte) error {
	le := binary.LittleEndian
	sqEntries, cqEntries, features := le.Uint32(p[0:]), le.Uint32(p[4:]), le.Uint32(p[20:])
	if features&ringFeatSingleMMap == 0 {
		return errors.New("io_uring: kernel lacks IORING_FEAT_SINGLE_MMAP")
	}
	// struct io_sqring_offsets starts at byte 40, struct io_cqring_offsets at byte 80.
	sqTail, sqMask, sqArr := le.Uint32(p[44:]), le.Uint32(p[48:]), le.Uint32(p[64:])
	cqHead, cqTail, cqMask, cqes := le.Uint32(p[80:]), le.Uint32(p[84:]), le.Uint32(p[88:]), le.Uint32(p[100:])
	size := max(uintptr(sqArr)+uintptr(sqEntries)*4, uintptr(cqes)+uintptr(cqEntries)*ringCQESize)
	rings, err := unix.Mmap(r.fd, ringOffSQRing, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return fmt.Errorf("io_uring: map rings: %w", err)
	}
	r.rings = rings
	sqes, err := unix.Mmap(r.fd, ringOffSQEs, int(sqEntries)*ringSQESize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return fmt.Errorf("io_uring: map entries: %w", err)
	}
	r.sqes = sqes
	r.sqTail = r.word(sqTail)
	r.sqMask = *r.word(sqMask)
	r.sqArr = uintptr(sqArr)
	r.cqHead, r.cqTail = r.word(cqHead), r.word(cqTail)
	r.cqMask = *r.word(cqMask)
	r.cqes = uintptr(cqes)
	return nil
}

// word points at the 32-bit ring field at byte offset off.
func (r *ringSyncer) word(off uint32) *uint32 {
	return (*uint32)(unsafe.Pointer(&r.rings[off]))
}

// dataSync flushes f like fdatasync(2) and returns once the flush has completed. A
// failure of the ring itself, rather than of the flush, is a *ringError.
func (r *ringSyncer) dataSync(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("fdatasync %s: %w", f.Name(), err)
	}
	r.seq++
	var serr error
	// The ring holds its own reference to the file from submission on, so only the
	// submission needs the descriptor pinned.
	if err := rc.Control(func(fd uintptr) { serr = r.submit(fd) }); err != nil {
		return fmt.Errorf("fdatasync %s: %w", f.Name(), err)
	}
	if serr != nil {
		return fmt.Errorf("fdatasync %s: %w", f.Name(), &ringError{serr})
	}
	res, err := r.complete()
	if err != nil {
		return fmt.Errorf("fdatasync %s: %w", f.Name(), &ringError{err})
	}
	if res < 0 {
		errno := syscall.Errno(-res)
		if notRun(errno) {
			return fmt.Errorf("fdatasync %s: %w", f.Name(), &ringError{errno})
		}
		return fmt.Errorf("fdatasync %s: %w", f.Name(), errno)
	}
	return nil
}

// notRun reports whether a completion's error says that the ring did not get the flush
// done (no worker, cancelled, interrupted, out of memory) rather than that the flush
// failed. Only then may the flush be done again another way: after a failed flush
// (EIO, ENOSPC, ...) the kernel may have dropped the dirty pages, and a second one would
// report success for data that never reached the disk.
func notRun(errno syscall.Errno) bool {
	switch errno {
	case syscall.EAGAIN, syscall.ECANCELED, syscall.EINTR, syscall.ENOMEM, syscall.EBUSY:
		return true
	}
	return false
}

// submit queues one IORING_OP_FSYNC (datasync) for fd and enters it into the kernel.
func (r *ringSyncer) submit(fd uintptr) error {
	tail := atomic.LoadUint32(r.sqTail)
	idx := tail & r.sqMask
	sqe := r.sqes[idx*ringSQESize : (idx+1)*ringSQESize]
	clear(sqe)
	le := binary.LittleEndian
	sqe[0] = ringOpFsync
	le.PutUint32(sqe[4:], uint32(fd))
	le.PutUint32(sqe[28:], ringFsyncDatasync)
	le.PutUint64(sqe[32:], r.seq)
	*(*uint32)(unsafe.Pointer(&r.rings[r.sqArr+uintptr(idx)*4])) = idx
	atomic.StoreUint32(r.sqTail, tail+1) // publishes the entry to the kernel
	for {
		n, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), 1, 0, 0, 0, 0)
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 {
			return fmt.Errorf("io_uring_enter: %w", errno)
		}
		if n != 1 {
			return fmt.Errorf("io_uring_enter: submitted %d of 1", n)
		}
		return nil
	}
}

// complete waits for the completion of the last submission and returns its result.
func (r *ringSyncer) complete() (int32, error) {
	var buf [8]byte
	for {
		head := atomic.LoadUint32(r.cqHead)
		if head != atomic.LoadUint32(r.cqTail) {
			cqe := r.rings[r.cqes+uintptr(head&r.cqMask)*ringCQESize:]
			le := binary.LittleEndian
			userData, res := le.Uint64(cqe[0:]), int32(le.Uint32(cqe[8:]))
			atomic.StoreUint32(r.cqHead, head+1)
			if userData != r.seq {
				return 0, fmt.Errorf("io_uring: completion %d while waiting for %d", userData, r.seq)
			}
			return res, nil
		}
		if _, err := r.event.Read(buf[:]); err != nil {
			return 0, fmt.Errorf("io_uring: wait: %w", err)
		}
	}
}

// close releases the ring. No operation may be in flight.
func (r *ringSyncer) close() {
	if r.event != nil {
		r.event.Close()
	}
	if r.sqes != nil {
		unix.Munmap(r.sqes)
	}
	if r.rings != nil {
		unix.Munmap(r.rings)
	}
	unix.Close(r.fd)
}
