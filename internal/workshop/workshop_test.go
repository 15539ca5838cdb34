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

func TestDomainOfTheProducersValues(t *testing.T) {
	if d := DomainOf(map[string]any{"domain": "localhost"}); d != "localhost" {
		t.Fatalf("DomainOf(localhost) = %q", d)
	}
	for _, vals := range []map[string]any{nil, {}, {"domain": ""}, {"domain": 3}} {
		if d := DomainOf(vals); d != Domain {
			t.Fatalf("DomainOf(%v) = %q, want the default %q", vals, d, Domain)
		}
	}
}
