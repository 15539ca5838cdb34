// Command etcd is etcd's server, built from go.etcd.io/etcd/server/v3 (pinned
// in go.mod) for the offline kind node image (mk/kind.mk). It is what etcd's
// own main does: hand the arguments to etcdmain.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
