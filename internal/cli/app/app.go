// Package app holds the hidden `dojo app` commands that run the workshop's
// sample application inside the dojo image: `dojo app producer` and
// `dojo app consumer`. The work is done by internal/app.
package app

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/kubedojo/dojo/internal/app"
	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory"
)

// NewCmd builds `dojo app`, hidden from the main help: learners never type
// it, the image runs it.
func NewCmd(f *factory.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "app",
		Short: "Run the workshop's sample application (producer or consumer)",
		Long: `Run the workshop's sample application, as the dojo image does in the cluster.

The producer pushes items onto the Redis list "padok"; the consumer takes them
one at a time and works on each (1 s by default). Every flag can also be set
with the environment variable named in its help.`,
		Example: `  dojo app producer --redis-addr 127.0.0.1:6379 --listen 127.0.0.1:8080
  dojo app consumer --redis-addr 127.0.0.1:6379 --listen 127.0.0.1:8081`,
		Hidden: true,
		Args:   cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cmdutil.Usagef("unknown command %q for \"dojo app\": use \"producer\" or \"consumer\"", args[0])
			}
			return cmd.Help()
		},
	}
	cmd.AddCommand(newProducerCmd(f), newConsumerCmd(f))
	return cmd
}

// envFlag ties a flag to the environment variable that sets it when the flag
// is not given on the command line.
type envFlag struct{ flag, env string }

// applyEnv sets every flag not given on the command line from its
// environment variable, parsing the value as the flag would.
func applyEnv(f *factory.Factory, cmd *cobra.Command, pairs []envFlag) error {
	for _, p := range pairs {
		if cmd.Flags().Changed(p.flag) {
			continue
		}
		v := f.Getenv(p.env)
		if v == "" {
			continue
		}
		if err := cmd.Flags().Set(p.flag, v); err != nil {
			return cmdutil.Usagef("%s=%q is not a valid value for --%s: %v", p.env, v, p.flag, err)
		}
	}
	return nil
}

func addCommonFlags(cmd *cobra.Command, o *app.CommonOptions) []envFlag {
	fl := cmd.Flags()
	fl.StringVar(&o.RedisAddr, "redis-addr", app.DefaultRedisAddr, "Redis host:port holding the queue (env DOJO_REDIS_ADDR)")
	fl.StringVar(&o.Queue, "queue", app.DefaultQueue, "the Redis list items go through (env DOJO_QUEUE)")
	fl.StringVar(&o.Listen, "listen", app.DefaultListen, "HTTP address for /healthz and /metrics (env DOJO_LISTEN)")
	return []envFlag{
		{"redis-addr", "DOJO_REDIS_ADDR"},
		{"queue", "DOJO_QUEUE"},
		{"listen", "DOJO_LISTEN"},
	}
}

func logger(f *factory.Factory) *slog.Logger {
	return slog.New(slog.NewTextHandler(f.IO.ErrOut, nil))
}

func usage(err error) error {
	if err == nil {
		return nil
	}
	return &cmdutil.UsageError{Msg: err.Error()}
}

func newProducerCmd(f *factory.Factory) *cobra.Command {
	var o app.ProducerOptions
	cmd := &cobra.Command{
		Use:   "producer",
		Short: "Serve POST /publish and POST /publish/{n}, pushing items onto the queue",
		Long: fmt.Sprintf(`Serve the producer's HTTP API:

  POST /publish       push one item onto the queue
  POST /publish/{n}   push n items (1 to %d) in one Redis round trip
  GET  /healthz       200 when Redis answers, 503 otherwise
  GET  /metrics       Prometheus metrics

Answers are one line of JSON, errors {"error": "..."}.`, app.MaxPublish),
		Example: `  dojo app producer --redis-addr 127.0.0.1:6379 --listen 127.0.0.1:8080
  curl -X POST http://127.0.0.1:8080/publish/20`,
		Args: cmdutil.NoArgs,
	}
	pairs := addCommonFlags(cmd, &o.CommonOptions)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := applyEnv(f, cmd, pairs); err != nil {
			return err
		}
		if err := o.Validate(); err != nil {
			return usage(err)
		}
		o.Logger = logger(f)
		return app.RunProducer(cmd.Context(), o)
	}
	return cmd
}

func newConsumerCmd(f *factory.Factory) *cobra.Command {
	var o app.ConsumerOptions
	cmd := &cobra.Command{
		Use:   "consumer",
		Short: "Take items from the queue one at a time and work on each",
		Long: `Take items from the queue one at a time, at least once: each item waits in
this consumer's own processing list until its work is done. A consumer that is
killed loses nothing: once its heartbeat expires, another consumer moves its
unfinished item back to the queue.

SIGTERM (or Ctrl-C) stops taking items, finishes the current one and exits 0.
GET /healthz answers 503 while Redis does not answer; GET /metrics serves
Prometheus metrics.`,
		Example: `  dojo app consumer --redis-addr 127.0.0.1:6379 --listen 127.0.0.1:8081
  DOJO_WORK_TIME=200ms dojo app consumer --redis-addr 127.0.0.1:6379`,
		Args: cmdutil.NoArgs,
	}
	pairs := addCommonFlags(cmd, &o.CommonOptions)
	cmd.Flags().DurationVar(&o.WorkTime, "work-time", app.DefaultWorkTime, "how long to work on each item (env DOJO_WORK_TIME)")
	cmd.Flags().DurationVar(&o.HeartbeatTTL, "heartbeat-ttl", app.DefaultHeartbeatTTL, "how soon another consumer recovers this one's item if it dies (env DOJO_HEARTBEAT_TTL)")
	pairs = append(pairs, envFlag{"work-time", "DOJO_WORK_TIME"}, envFlag{"heartbeat-ttl", "DOJO_HEARTBEAT_TTL"})
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := applyEnv(f, cmd, pairs); err != nil {
			return err
		}
		if err := o.Validate(); err != nil {
			return usage(err)
		}
		o.Logger = logger(f)
		return app.RunConsumer(cmd.Context(), o)
	}
	return cmd
}
