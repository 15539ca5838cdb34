//go:build !unix

package state

// lock is a no-op where flock does not exist; the atomic rename still keeps
// the file whole, though two simultaneous updates may then lose one.
func lock(string) (func(), error) { return func() {}, nil }
