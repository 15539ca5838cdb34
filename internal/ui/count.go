package ui

import "fmt"

// Count is n with its noun in agreement: Count(1, "hint", "hints") is
// "1 hint", Count(3, …) "3 hints", Count(0, …) "0 hints".
func Count(n int, one, many string) string {
	if n == 1 || n == -1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
