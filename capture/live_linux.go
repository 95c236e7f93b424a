package capture

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Live reads the frames of one network interface as they pass, through a
// Linux AF_PACKET socket with a memory-mapped ring (TPACKET_V3, from
// gopacket's afpacket package: no cgo), for a Stream.
type Live struct {
	tp    *afpacket.TPacket
	link  layers.LinkType
	iface string
}

// OpenLive opens a live capture on the interface (root or CAP_NET_RAW).
// The socket belongs to the network namespace of the calling thread.
func OpenLive(iface string, opt LiveOptions) (*Live, error) {
	if _, err := net.InterfaceByName(iface); err != nil {
		return nil, fmt.Errorf("interface %q: %w", iface, err)
	}
	link, hw, err := ifLinkType(iface)
	if err != nil {
		return nil, err
	}
	var prog []bpf.RawInstruction
	if opt.Filter != "" {
		if prog, err = CompileFilter(opt.Filter, link); err != nil {
			return nil, err
		}
	}
	if hw == unix.ARPHRD_LOOPBACK {
		// a packet on lo is seen leaving and arriving: keep one, as
		// libpcap does (it skips PACKET_OUTGOING on loopback devices)
		prog = skipOutgoing(prog)
	}
	ring := opt.RingMB
	if ring <= 0 {
		ring = 16
	}
	const block = 1 << 20 // a block holds a whole 64 KB GRO super-packet
	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(iface),
		afpacket.OptTPacketVersion(afpacket.TPacketVersion3),
		afpacket.OptFrameSize(1<<16),
		afpacket.OptBlockSize(block),
		afpacket.OptNumBlocks(ring),
		afpacket.OptBlockTimeout(10*time.Millisecond),
		afpacket.OptPollTimeout(livePoll),
		afpacket.OptAddVLANHeader(true),
	)
	if err != nil {
		if errors.Is(err, unix.EPERM) {
			return nil, fmt.Errorf("capture on %s: %w (a live capture needs root or CAP_NET_RAW)", iface, err)
		}
		return nil, fmt.Errorf("capture on %s: %w", iface, err)
	}
	if prog != nil {
		if err := tp.SetBPF(prog); err != nil {
			tp.Close()
			return nil, fmt.Errorf("filter %q: the kernel refused the program: %w", opt.Filter, err)
		}
	}
	if err := tp.InitSocketStats(); err != nil {
		tp.Close()
		return nil, fmt.Errorf("capture on %s: %w", iface, err)
	}
	return &Live{tp: tp, link: link, iface: iface}, nil
}

// next returns the next frame (valid until the next call), its time
// (Unix ns) and length on the wire; errLiveTimeout when none came within
// the poll interval.
func (l *Live) next() ([]byte, int64, int, error) {
	data, ci, err := l.tp.ZeroCopyReadPacketData()
	if err != nil {
		if errors.Is(err, afpacket.ErrTimeout) || errors.Is(err, unix.EINTR) {
			return nil, 0, 0, errLiveTimeout
		}
		return nil, 0, 0, fmt.Errorf("capture on %s: %w", l.iface, err)
	}
	return data, ci.Timestamp.UnixNano(), ci.Length, nil
}

// Stats are the kernel's counts for the socket since it was opened.
func (l *Live) Stats() (LiveStats, error) {
	_, v3, err := l.tp.SocketStats()
	if err != nil {
		return LiveStats{}, err
	}
	return LiveStats{Received: uint64(v3.Packets()), Dropped: uint64(v3.Drops())}, nil
}

// Close releases the socket and its ring.
func (l *Live) Close() { l.tp.Close() }

// skipOutgoing prefixes a filter (nil: accept all) with a test that
// rejects packets the host sends (the packet type, a Linux BPF extension).
func skipOutgoing(prog []bpf.RawInstruction) []bpf.RawInstruction {
	head, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadExtension{Num: bpf.ExtType},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.PACKET_OUTGOING, SkipFalse: 1},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		panic(err) // constant program
	}
	if prog == nil {
		prog = []bpf.RawInstruction{{Op: 6, K: 262144}} // ret #262144: accept
	}
	return append(head, prog...)
}

// ifLinkType maps the interface's hardware type (SIOCGIFHWADDR) to the
// link type of the frames an AF_PACKET raw socket reads from it.
func ifLinkType(iface string) (layers.LinkType, uint16, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, 0, fmt.Errorf("interface %s: %w", iface, err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(iface)
	if err != nil {
		return 0, 0, fmt.Errorf("interface %q: %w", iface, err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFHWADDR, ifr); err != nil {
		return 0, 0, fmt.Errorf("interface %s: hardware type: %w", iface, err)
	}
	switch t := ifr.Uint16(); t {
	case unix.ARPHRD_ETHER, unix.ARPHRD_LOOPBACK:
		return layers.LinkTypeEthernet, t, nil
	case unix.ARPHRD_NONE, unix.ARPHRD_RAWIP, unix.ARPHRD_PPP, unix.ARPHRD_TUNNEL, unix.ARPHRD_TUNNEL6, unix.ARPHRD_SIT:
		// tun, wireguard, ppp, ipip, ip6tnl, sit: the frame is the IP packet
		return layers.LinkTypeRaw, t, nil
	default:
		return 0, 0, fmt.Errorf("interface %s has hardware type %d, which a live capture does not read (Ethernet, loopback and IP tunnels such as tun, wireguard, ppp, ipip, sit); capture it with tcpdump -w - | mtukit analyze -", iface, t)
	}
}
