//go:build !linux

package readonly

import (
	"errors"
	"testing"
)

func mountReadOnly(*testing.T, string) error {
	return errors.New("read-only bind mounts are a Linux feature")
}
