package workshop

import (
	"strconv"
	"testing"
)

func TestDefaultContextIsTheClustersKindContext(t *testing.T) {
	if KindContext(ClusterName) != DefaultContext {
		t.Fatalf("KindContext(%q) = %q, DefaultContext = %q", ClusterName, KindContext(ClusterName), DefaultContext)
	}
}

func TestRedisAddrIsServiceAndPort(t *testing.T) {
	if want := RedisService + ":" + strconv.Itoa(RedisPort); RedisAddr != want {
		t.Fatalf("RedisAddr = %q, want %q", RedisAddr, want)
	}
}
