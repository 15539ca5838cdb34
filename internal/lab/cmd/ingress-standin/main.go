// Command ingress-standin is the lab's INGRESS STAND-IN for Traefik as a
// container's program: the kind tests package it as an image and load it
// into the node under the Traefik chart's image name (Traefik's own image
// cannot be had offline), so that Ingresses are served on the node's port
// 80. It routes plain HTTP by Host and path to the Services' ready
// endpoints; nothing else of Traefik. See internal/lab/ingress_standin.go.
package main

import (
	"os"

	"github.com/kubedojo/dojo/internal/lab"
)

func main() { os.Exit(lab.IngressStandInMain(os.Args[1:])) }
