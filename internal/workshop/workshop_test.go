package workshop

import (
	"strconv"
	"testing"
)

func TestRedisAddrIsServiceAndPort(t *testing.T) {
	if want := RedisService + ":" + strconv.Itoa(RedisPort); RedisAddr != want {
		t.Fatalf("RedisAddr = %q, want %q", RedisAddr, want)
	}
}
