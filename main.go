// Command dojo runs the "Kubernetes autoscaling with Prometheus" workshop.
package main

import "github.com/kubedojo/dojo/internal/cli"

func main() { cli.Main() }
