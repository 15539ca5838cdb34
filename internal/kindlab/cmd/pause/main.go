// Command pause is the pod sandbox's process in dojo's offline kind node
// image, packaged as registry.k8s.io/pause (mk/kind.mk): it holds a pod's
// namespaces open, reaps the zombies handed to it as PID 1, and exits
// cleanly when asked to stop.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 8)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range sig {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var status syscall.WaitStatus
			if pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
	}
}
