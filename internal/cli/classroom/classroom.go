// Package classroom is `dojo classroom` (the trainer's server) and `dojo
// classroom export`, and the hook that sends a learner's event after check,
// hint, solve and step (Reports).
package classroom

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubedojo/dojo/internal/classroom"
	"github.com/kubedojo/dojo/internal/cmdutil"
	"github.com/kubedojo/dojo/internal/factory"
	"github.com/kubedojo/dojo/internal/steps"
	"github.com/kubedojo/dojo/internal/ui"
)

// DefaultListen is where the server listens unless --listen says: this
// laptop only.
const DefaultListen = "127.0.0.1:7777"

// DefaultState is the room's file unless --state says.
const DefaultState = "dojo-classroom.json"

// Options are the flags of `dojo classroom` and what it needs.
type Options struct {
	Listen      string
	State       string
	Large       bool
	MaxLearners int

	IO      *ui.IOStreams
	Catalog func() (*steps.Catalog, error)
	Now     func() time.Time
	// Addrs lists this machine's addresses, for the join command when the
	// server listens on all of them (net.InterfaceAddrs).
	Addrs func() ([]net.Addr, error)
}

// NewCmd builds `dojo classroom` and its `export`.
func NewCmd(f *factory.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "classroom",
		Short: "Run a room: a page where the trainer sees every learner's step, failing criterion and raised hand",
		Long: `Start the trainer's server. Learners join it with dojo join; after each of
their check, hint, solve and step, their dojo sends one small event (dojo
join --show prints it). The page shows a row per learner, a column per step,
raised hands and the longest stuck first, live.

dojo classroom prints two things: the join command to show the room (the
server's URL and the join token) and the URL of your page (with the trainer
token: keep it to yourself). The room is kept in --state, so a server
stopped and started again with the same file keeps its learners and tokens.

--listen is where the server listens. The default, 127.0.0.1:7777, is this
laptop only: no learner can reach it. For a room, give --listen
0.0.0.0:7777 (every network this laptop is on) or your address on the
room's network (--listen 192.168.1.20:7777). Then anyone on that network
can reach the server: without a token they get 401 and nothing else, but
the traffic is plain HTTP, so someone who can read the Wi-Fi's traffic sees
the join token and the learners' events (names, steps, failing criteria).
See docs/classroom.md.`,
		Example: `  dojo classroom --listen 0.0.0.0:7777
  dojo classroom --listen 192.168.1.20:7777 --state ~/rooms/tuesday.json --large
  dojo classroom export --format csv > room.csv`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IO, opts.Catalog, opts.Now, opts.Addrs = f.IO, f.Catalog, f.Now, net.InterfaceAddrs
			return Run(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Listen, "listen", DefaultListen, "HOST:PORT to listen on; the default is this laptop only, a room needs 0.0.0.0:7777 or your LAN address")
	fl.StringVar(&opts.State, "state", DefaultState, "the file the room is kept in (created if missing, resumed if present)")
	fl.BoolVar(&opts.Large, "large", false, "open the page in large type, for a projector (the page has a toggle too)")
	fl.IntVar(&opts.MaxLearners, "max-learners", classroom.DefaultLimits().MaxLearners, "the most learners the room takes")
	cmd.AddCommand(newExportCmd(f))
	return cmd
}

// CheckListen refuses a --listen that is not HOST:PORT.
func CheckListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	bad := func() error {
		return cmdutil.Usagef("--listen %q is not HOST:PORT: give e.g. --listen 0.0.0.0:7777 (the room) or --listen 127.0.0.1:7777 (this laptop only)", addr)
	}
	if err != nil {
		return bad()
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return bad()
	}
	if host != "" && host != "localhost" && net.ParseIP(host) == nil {
		return cmdutil.Usagef("--listen %q: %q is not an IP address of this laptop: give one (e.g. 192.168.1.20:7777) or 0.0.0.0:7777", addr, host)
	}
	return nil
}

// Run serves the room until ctx ends (Ctrl-C).
func Run(ctx context.Context, opts *Options) error {
	if err := CheckListen(opts.Listen); err != nil {
		return err
	}
	if opts.MaxLearners < 1 || opts.MaxLearners > 1000 {
		return cmdutil.Usagef("--max-learners %d is out of range: give a number from 1 to 1000", opts.MaxLearners)
	}
	if strings.TrimSpace(opts.State) == "" {
		return cmdutil.Usagef("--state is empty: give the file the room is kept in, e.g. --state %s", DefaultState)
	}
	path, err := filepath.Abs(opts.State)
	if err != nil {
		return err
	}
	cat, err := opts.Catalog()
	if err != nil {
		return err
	}
	limits := classroom.DefaultLimits()
	limits.MaxLearners = opts.MaxLearners
	room, resumed, err := classroom.Open(path, classroom.StepsOf(cat), limits, opts.Now)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w (is another dojo classroom running? give another port with --listen)", opts.Listen, err)
	}
	defer ln.Close()
	printRoom(opts, room, ln.Addr().(*net.TCPAddr), resumed)
	return classroom.Serve(ctx, ln, classroom.NewServer(room).Handler())
}

// printRoom prints the join command and the page's URL.
func printRoom(opts *Options, room *classroom.Room, addr *net.TCPAddr, resumed bool) {
	out := opts.IO.Out
	st := opts.IO.Styles()
	host, _, _ := net.SplitHostPort(opts.Listen)
	port := strconv.Itoa(addr.Port)
	if resumed {
		fmt.Fprintf(out, "Resumed the room kept in %s (%d learners).\n", room.Path(), len(room.Learners()))
	} else {
		fmt.Fprintf(out, "A new room, kept in %s.\n", room.Path())
	}
	// The page first: its token reads the whole room, so it must be off the
	// screen (cleared, or scrolled away) before the terminal is projected;
	// the join command, last, is the part the room may see.
	fmt.Fprintf(out, "\n%s\n", st.Heading.Render("Your page (open it, then clear this screen before you project it: its token reads the whole room):"))
	page := hostURL(pageHost(host), port) + "/?token=" + url.QueryEscape(room.TrainerToken())
	if opts.Large {
		page += "&large=1"
	}
	fmt.Fprintf(out, "  %s\n", page)
	fmt.Fprintf(out, "\n%s\n", st.Heading.Render("Learners join with (show this to the room):"))
	for _, h := range joinHosts(host, opts.Addrs) {
		fmt.Fprintf(out, "  %s\n", st.Code.Render(fmt.Sprintf(`dojo join %s --token %s --name "Your name"`, hostURL(h, port), room.JoinToken())))
	}
	fmt.Fprintln(out)
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		fmt.Fprintf(out, "Only this laptop can reach %s. For the room, run dojo classroom --listen 0.0.0.0:%s, or with your address on the room's network.\n", net.JoinHostPort(host, port), port)
	}
	fmt.Fprintf(out, "Ctrl-C stops the server; dojo classroom --state %s resumes the room.\n", room.Path())
}

func hostURL(host, port string) string { return "http://" + net.JoinHostPort(host, port) }

// joinHosts are the addresses learners can use: the one listened on, or,
// on 0.0.0.0 (::), every address of this machine but loopback and
// link-local ones.
func joinHosts(host string, addrs func() ([]net.Addr, error)) []string {
	ip := net.ParseIP(host)
	if host != "" && (ip == nil || !ip.IsUnspecified()) {
		return []string{host}
	}
	var out []string
	if addrs != nil {
		list, _ := addrs()
		for _, a := range list {
			n, ok := a.(*net.IPNet)
			if !ok || n.IP.IsLoopback() || n.IP.IsLinkLocalUnicast() || (n.IP.To4() == nil && ip != nil && ip.To4() != nil) {
				continue
			}
			out = append(out, n.IP.String())
		}
	}
	slices.Sort(out)
	if len(out) == 0 {
		out = []string{"127.0.0.1"}
	}
	return out
}

// pageHost is where the trainer's own browser reaches the server: loopback
// when the server listens there or everywhere.
func pageHost(host string) string {
	ip := net.ParseIP(host)
	switch {
	case host == "" || host == "localhost" || (ip != nil && ip.IsUnspecified() && ip.To4() != nil):
		return "127.0.0.1"
	case ip != nil && ip.IsUnspecified():
		return "::1"
	}
	return host
}

// ExportOptions are the flags of `dojo classroom export`.
type ExportOptions struct {
	State  string
	Format string

	Out     io.Writer
	Catalog func() (*steps.Catalog, error)
	Now     func() time.Time
}

func newExportCmd(f *factory.Factory) *cobra.Command {
	opts := &ExportOptions{}
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the room for the retrospective: per learner, steps passed with times, hints used",
		Long: `Write the room kept in --state as CSV (one row per learner: current step,
steps passed, hints used, seconds on each step passed) or JSON (the same,
with when each step was passed). It reads the file: the server need not run.`,
		Example: `  dojo classroom export --format csv > room.csv
  dojo classroom export --format json --state ~/rooms/tuesday.json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Out, opts.Catalog, opts.Now = f.IO.Out, f.Catalog, f.Now
			return RunExport(opts)
		},
	}
	cmd.Flags().StringVar(&opts.State, "state", DefaultState, "the file the room is kept in")
	cmd.Flags().StringVar(&opts.Format, "format", "csv", "csv or json")
	return cmd
}

// RunExport writes the export.
func RunExport(opts *ExportOptions) error {
	if opts.Format != "csv" && opts.Format != "json" {
		return cmdutil.Usagef("--format %q is not csv or json: e.g. dojo classroom export --format csv", opts.Format)
	}
	cat, err := opts.Catalog()
	if err != nil {
		return err
	}
	path, err := filepath.Abs(opts.State)
	if err != nil {
		return err
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no room in %s: give the --state file dojo classroom kept the room in", path)
	}
	room, err := classroom.ReadRoom(path, classroom.StepsOf(cat))
	if err != nil {
		return err
	}
	return classroom.WriteExport(opts.Out, classroom.ExportOf(room, opts.Now()), opts.Format)
}
