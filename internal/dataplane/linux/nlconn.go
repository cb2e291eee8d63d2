package linux

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// inNetns runs fn on a locked OS thread switched into ns (when ns is open),
// then switches back. If switching back fails the thread stays locked, so
// the Go runtime discards it instead of reusing a thread in the wrong netns.
func inNetns(ns netns.NsHandle, fn func() error) error {
	if !ns.IsOpen() {
		return fn()
	}
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("get current netns: %w", err)
	}
	defer orig.Close()
	if err := netns.Set(ns); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("enter netns: %w", err)
	}
	ferr := fn()
	if err := netns.Set(orig); err != nil {
		return errors.Join(ferr, fmt.Errorf("return to the original netns: %w", err))
	}
	runtime.UnlockOSThread()
	return ferr
}

// nlCounters counts what one connection sent: requests (netlink messages)
// and system calls (sendto + recvfrom).
type nlCounters struct {
	requests atomic.Uint64
	syscalls atomic.Uint64
}

// conn is a blocking NETLINK_ROUTE socket that sends requests in batches:
// many messages in one sendto, then reads the acknowledgements. The kernel
// processes the messages of one buffer in order, so a batch keeps the order
// of its requests.
type conn struct {
	fd   int
	seq  uint32
	rbuf []byte
	cnt  *nlCounters
}

const nlBatchBytes = 32 << 10

func openConn(ns netns.NsHandle, groups uint32, cnt *nlCounters) (*conn, error) {
	c := &conn{rbuf: make([]byte, 1<<20), cnt: cnt}
	err := inNetns(ns, func() error {
		fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
		if err != nil {
			return fmt.Errorf("netlink socket: %w", err)
		}
		c.fd = fd
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Large buffers: a batch of acknowledgements, or a burst of notifications.
	_ = unix.SetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20)
	_ = unix.SetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, 1<<20)
	_ = unix.SetsockoptInt(c.fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1)
	_ = unix.SetsockoptInt(c.fd, unix.SOL_NETLINK, unix.NETLINK_EXT_ACK, 1)
	if err := unix.Bind(c.fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: groups}); err != nil {
		unix.Close(c.fd)
		return nil, fmt.Errorf("netlink bind: %w", err)
	}
	return c, nil
}

func (c *conn) close() {
	if c != nil && c.fd > 0 {
		unix.Close(c.fd)
		c.fd = -1
	}
}

// nlReq is one request: message type, flags (NLM_F_REQUEST|NLM_F_ACK are
// added) and payload (family header + attributes).
type nlReq struct {
	typ   uint16
	flags uint16
	data  []byte
}

func (c *conn) send(b []byte) error {
	c.cnt.syscalls.Add(1)
	for {
		err := unix.Sendto(c.fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
		if err == unix.EINTR {
			continue
		}
		return err
	}
}

func (c *conn) recv() ([]byte, error) {
	for {
		c.cnt.syscalls.Add(1)
		n, _, err := unix.Recvfrom(c.fd, c.rbuf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		return c.rbuf[:n], nil
	}
}

// exec sends the requests in batches and returns one error per request (nil
// for success). The error is a syscall.Errno from the kernel, or the
// transport error for every request of a failed batch. Requests are sent
// without NLM_F_ACK: the kernel answers only failures, and a NLMSG_NOOP
// with NLM_F_ACK closes each batch, so one batch costs one sendto and
// usually one recvfrom.
func (c *conn) exec(reqs []nlReq) []error {
	errs := make([]error, len(reqs))
	buf := make([]byte, 0, nlBatchBytes+4096)
	for start := 0; start < len(reqs); {
		buf = buf[:0]
		firstSeq := c.seq + 1
		end := start
		for end < len(reqs) && (end == start || len(buf)+16+len(reqs[end].data) <= nlBatchBytes) {
			r := reqs[end]
			c.seq++
			buf = appendHdr(buf, uint32(16+len(r.data)), r.typ, r.flags|unix.NLM_F_REQUEST, c.seq)
			buf = append(buf, r.data...)
			buf = pad4(buf)
			end++
		}
		c.seq++
		sentinel := c.seq
		buf = appendHdr(buf, 16, unix.NLMSG_NOOP, unix.NLM_F_REQUEST|unix.NLM_F_ACK, sentinel)
		c.cnt.requests.Add(uint64(end - start))
		if err := c.send(buf); err != nil {
			for i := start; i < end; i++ {
				errs[i] = fmt.Errorf("netlink send: %w", err)
			}
			start = end
			continue
		}
		for done := false; !done; {
			b, err := c.recv()
			if err != nil {
				for i := start; i < end; i++ {
					if errs[i] == nil {
						errs[i] = fmt.Errorf("netlink receive (batch outcome unknown): %w", err)
					}
				}
				break
			}
			for len(b) >= 16 {
				l := binary.NativeEndian.Uint32(b[0:4])
				typ := binary.NativeEndian.Uint16(b[4:6])
				seq := binary.NativeEndian.Uint32(b[8:12])
				if l < 16 || int(l) > len(b) {
					break
				}
				if typ == unix.NLMSG_ERROR && l >= 20 {
					code := int32(binary.NativeEndian.Uint32(b[16:20]))
					switch {
					case seq == sentinel:
						done = true
					case seq >= firstSeq && seq < firstSeq+uint32(end-start) && code != 0:
						errs[start+int(seq-firstSeq)] = syscall.Errno(-code)
					}
				}
				b = b[min(align4(int(l)), len(b)):]
			}
		}
		start = end
	}
	return errs
}

var errDumpInterrupted = errors.New("netlink dump interrupted")

// dump sends one dump request and calls fn for every message of the reply.
// A reply marked NLM_F_DUMP_INTR (the table changed meanwhile) is read to
// its end and reported as errDumpInterrupted, for the caller to retry.
func (c *conn) dump(typ uint16, data []byte, fn func(typ uint16, msg []byte)) error {
	c.seq++
	seq := c.seq
	buf := appendHdr(nil, uint32(16+len(data)), typ, unix.NLM_F_REQUEST|unix.NLM_F_DUMP, seq)
	buf = append(buf, data...)
	c.cnt.requests.Add(1)
	if err := c.send(pad4(buf)); err != nil {
		return fmt.Errorf("netlink send: %w", err)
	}
	intr := false
	for {
		b, err := c.recv()
		if err != nil {
			return fmt.Errorf("netlink receive: %w", err)
		}
		for len(b) >= 16 {
			l := binary.NativeEndian.Uint32(b[0:4])
			mtyp := binary.NativeEndian.Uint16(b[4:6])
			flags := binary.NativeEndian.Uint16(b[6:8])
			mseq := binary.NativeEndian.Uint32(b[8:12])
			if l < 16 || int(l) > len(b) {
				return fmt.Errorf("netlink: malformed message")
			}
			msg := b[16:l]
			b = b[min(align4(int(l)), len(b)):]
			if mseq != seq {
				continue
			}
			if flags&unix.NLM_F_DUMP_INTR != 0 {
				intr = true
			}
			switch mtyp {
			case unix.NLMSG_DONE:
				if intr {
					return errDumpInterrupted
				}
				return nil
			case unix.NLMSG_ERROR:
				if len(msg) >= 4 {
					if code := int32(binary.NativeEndian.Uint32(msg[0:4])); code != 0 {
						return syscall.Errno(-code)
					}
				}
				return nil
			default:
				fn(mtyp, msg)
			}
		}
	}
}

// dumpRetry retries a dump interrupted by concurrent changes (a few times).
func (c *conn) dumpRetry(typ uint16, data []byte, reset func(), fn func(typ uint16, msg []byte)) error {
	var err error
	for range 5 {
		reset()
		if err = c.dump(typ, data, fn); !errors.Is(err, errDumpInterrupted) {
			return err
		}
	}
	return err
}

func appendHdr(b []byte, length uint32, typ, flags uint16, seq uint32) []byte {
	b = binary.NativeEndian.AppendUint32(b, length)
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = binary.NativeEndian.AppendUint16(b, flags)
	b = binary.NativeEndian.AppendUint32(b, seq)
	return binary.NativeEndian.AppendUint32(b, 0)
}

func align4(n int) int { return (n + 3) &^ 3 }

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// appendAttr appends one rtattr.
func appendAttr(b []byte, typ uint16, val []byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(4+len(val)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, val...)
	return pad4(b)
}

func appendAttrU32(b []byte, typ uint16, v uint32) []byte {
	return appendAttr(b, typ, binary.NativeEndian.AppendUint32(nil, v))
}

// attrs parses the rtattrs of b into a small table indexed by type (types
// above 63 are ignored; none of ours are).
type attrTable [64][]byte

func parseAttrs(b []byte, t *attrTable) {
	for len(b) >= 4 {
		l := int(binary.NativeEndian.Uint16(b[0:2]))
		typ := binary.NativeEndian.Uint16(b[2:4]) & 0x3fff // strip NLA_F_NESTED / NET_BYTEORDER
		if l < 4 || l > len(b) {
			return
		}
		if typ < 64 {
			t[typ] = b[4:l]
		}
		b = b[min(align4(l), len(b)):]
	}
}

func nativeU32(b []byte) uint32 { return binary.NativeEndian.Uint32(b) }
func nativeU16(b []byte) uint16 { return binary.NativeEndian.Uint16(b) }
