package app

import (
	"strings"
	"testing"

	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/factory/factorytest"
)

func testFactory(t *testing.T, env map[string]string) *factory.Factory {
	f, _ := factorytest.New(t, factorytest.Options{Env: env})
	return f
}

func TestAppIsHiddenWithExamples(t *testing.T) {
	cmd := NewCmd(testFactory(t, nil))
	if !cmd.Hidden {
		t.Fatal("dojo app must be hidden from the main help")
	}
	for _, c := range append(cmd.Commands(), cmd) {
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%q has no --help example", c.CommandPath())
		}
	}
	names := []string{}
	for _, c := range cmd.Commands() {
		names = append(names, c.Name())
	}
	if strings.Join(names, ",") != "consumer,producer" {
		t.Fatalf("subcommands %v", names)
	}
}

func TestFlagDefaults(t *testing.T) {
	cmd := NewCmd(testFactory(t, nil))
	want := map[string]map[string]string{
		"producer": {"redis-addr": "redis-master:6379", "queue": "padok", "listen": ":8080"},
		"consumer": {"redis-addr": "redis-master:6379", "queue": "padok", "listen": ":8080", "work-time": "1s", "heartbeat-ttl": "10s"},
	}
	for _, c := range cmd.Commands() {
		for flag, def := range want[c.Name()] {
			f := c.Flags().Lookup(flag)
			if f == nil || f.DefValue != def {
				t.Errorf("%s --%s: %+v, want default %s", c.Name(), flag, f, def)
			}
		}
	}
}

func TestEnvFillsOnlyFlagsNotGiven(t *testing.T) {
	f := testFactory(t, map[string]string{"DOJO_QUEUE": "fromenv", "DOJO_WORK_TIME": "5ms", "DOJO_REDIS_ADDR": "env:1"})
	cmd := newConsumerCmd(f)
	if err := cmd.ParseFlags([]string{"--redis-addr", "flag:2"}); err != nil {
		t.Fatal(err)
	}
	pairs := []envFlag{{"redis-addr", "DOJO_REDIS_ADDR"}, {"queue", "DOJO_QUEUE"}, {"work-time", "DOJO_WORK_TIME"}, {"listen", "DOJO_LISTEN"}}
	if err := applyEnv(f, cmd, pairs); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range pairs {
		got[p.flag] = cmd.Flags().Lookup(p.flag).Value.String()
	}
	want := map[string]string{"redis-addr": "flag:2", "queue": "fromenv", "work-time": "5ms", "listen": ":8080"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("--%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestBadEnvIsAUsageError(t *testing.T) {
	f := testFactory(t, map[string]string{"DOJO_HEARTBEAT_TTL": "forever"})
	cmd := newConsumerCmd(f)
	err := applyEnv(f, cmd, []envFlag{{"heartbeat-ttl", "DOJO_HEARTBEAT_TTL"}})
	if cmdutil.ExitCode(err) != cmdutil.ExitUsage || !strings.Contains(err.Error(), `DOJO_HEARTBEAT_TTL="forever"`) {
		t.Fatalf("err %v (exit %d), want a usage error naming the variable and value", err, cmdutil.ExitCode(err))
	}
}
