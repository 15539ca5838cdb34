package cluster

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// PortUser is who listens on a TCP port, as far as the OS tells.
type PortUser struct {
	InUse   bool
	Process string // "nginx (pid 812)", empty when unknown
}

// PortChecker tells whether a host TCP port is taken.
type PortChecker func(port int) PortUser

// SystemPorts checks the real machine: on Linux the kernel's socket tables
// (/proc/net/tcp, tcp6) and, best effort, the process holding the socket;
// elsewhere (or when /proc is unreadable) by trying to listen on the port.
func SystemPorts(port int) PortUser {
	if runtime.GOOS == "linux" {
		if inodes, ok := listeningInodes("/proc/net", port); ok {
			if len(inodes) == 0 {
				return PortUser{}
			}
			return PortUser{InUse: true, Process: socketOwner("/proc", inodes)}
		}
	}
	return PortUser{InUse: listenFails(port)}
}

func listenFails(port int) bool {
	l, err := net.Listen("tcp", ":"+strconv.Itoa(port))
	if err == nil {
		l.Close()
		return false
	}
	return errors.Is(err, syscall.EADDRINUSE)
}

// listeningInodes reads procNet/tcp and procNet/tcp6 for sockets in state
// LISTEN (0A) on port, returning their inodes. ok is false when neither
// table could be read.
func listeningInodes(procNet string, port int) (map[string]bool, bool) {
	inodes := map[string]bool{}
	read := false
	for _, f := range []string{"tcp", "tcp6"} {
		fh, err := os.Open(filepath.Join(procNet, f))
		if err != nil {
			continue
		}
		read = true
		sc := bufio.NewScanner(fh)
		sc.Scan() // header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[3] != "0A" {
				continue
			}
			_, hexPort, ok := strings.Cut(fields[1], ":")
			if !ok {
				continue
			}
			p, err := strconv.ParseUint(hexPort, 16, 16)
			if err != nil || int(p) != port {
				continue
			}
			inodes[fields[9]] = true
		}
		fh.Close()
	}
	return inodes, read
}

// socketOwner finds a process holding one of the socket inodes, best effort
// (other users' processes are unreadable without privileges).
func socketOwner(proc string, inodes map[string]bool) string {
	pids, _ := filepath.Glob(filepath.Join(proc, "[0-9]*"))
	for _, dir := range pids {
		fds, err := os.ReadDir(filepath.Join(dir, "fd"))
		if err != nil {
			continue
		}
		for _, fd := range fds {
			target, err := os.Readlink(filepath.Join(dir, "fd", fd.Name()))
			if err != nil || !strings.HasPrefix(target, "socket:[") {
				continue
			}
			if inodes[strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]")] {
				comm, _ := os.ReadFile(filepath.Join(dir, "comm"))
				name := strings.TrimSpace(string(comm))
				if name == "" {
					name = "a process"
				}
				return fmt.Sprintf("%s (pid %s)", name, filepath.Base(dir))
			}
		}
	}
	return ""
}
