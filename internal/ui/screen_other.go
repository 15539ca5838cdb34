//go:build !unix

package ui

import "os"

// watchResize: without SIGWINCH the view keeps the size it started with.
func watchResize() (<-chan os.Signal, func()) { return nil, func() {} }
