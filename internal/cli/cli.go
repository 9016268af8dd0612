// Package cli is trek's command line: it parses subcommands and flags (each
// with a TREK_* environment fallback) and wires the stores, the server and
// the HTTP client together. cmd/trek only calls Run.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/trekhq/trek/internal/fault"
)

// Version is the build's version, set with -ldflags at release time.
var Version = "dev"

// errUsage marks an error whose message is a usage problem (exit code 2).
var errUsage = errors.New("usage")

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the trek server on a data directory", runServe},
		{"user", "create users and set passwords in a data directory", runUser},
		{"token", "create, list and revoke bearer tokens in a data directory", runToken},
		{"map", "list, show, create, export, import and delete maps on a server", runMap},
		{"version", "list, show, restore and diff versions of a map on a server", runVersion},
		{"source", "create, list, rotate, disable and enable event sources on a server", runSource},
		{"import", "import events from NDJSON, CSV or XES files (offline into a data directory, or to a server)", runImport},
		{"query", "run analytics on a server: funnel, trends, paths, dfg, variants, retention, conformance, metrics, activities, discover", runQuery},
		{"export", "export every event of a data directory as Parquet or NDJSON", runExport},
		{"gen", "generate realistic omnichannel journeys with planted effects", runGen},
	}
}

// Run runs trek with the given arguments (without the program name) and
// returns the process exit code: 0 success, 1 failure, 2 usage error.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "--version" || args[0] == "-version" {
		fmt.Fprintln(stdout, "trek", Version)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, args[1:], stdout, stderr)
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.Is(err, errUsage):
				fmt.Fprintln(stderr, "trek "+c.name+":", strings.TrimSuffix(err.Error(), ": "+errUsage.Error()))
				return 2
			default:
				fmt.Fprintln(stderr, "trek "+c.name+":", describe(err))
				return 1
			}
		}
	}
	fmt.Fprintf(stderr, "trek: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func describe(err error) string {
	if fe, ok := fault.As(err); ok && fe.Code != fault.Internal {
		return fe.Error()
	}
	return err.Error()
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "trek: customer journey maps measured by the events that prove them.")
	fmt.Fprintln(w, "\nUsage: trek COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'trek COMMAND -h' for a command's flags. Every flag can also be set with a")
	fmt.Fprintln(w, "TREK_* environment variable: --admin-password is TREK_ADMIN_PASSWORD.")
}

func usageErr(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, errUsage)...)
}

// newFlags makes a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("trek "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// EnvName is the environment variable behind a flag: --admin-password is
// TREK_ADMIN_PASSWORD.
func EnvName(flagName string) string {
	return "TREK_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parse parses args, flags and positional arguments in any order (so
// "trek map show ID --server URL" works), then fills every flag not given on
// the command line from its TREK_* environment variable. Flags win over the
// environment. It returns the positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.VisitAll(func(f *flag.Flag) {
		f.Usage += fmt.Sprintf(" (env %s)", EnvName(f.Name))
	})
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%s: %w", err.Error(), errUsage)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if rest[0] == "--" {
			pos = append(pos, rest[1:]...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []string
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		if v, ok := os.LookupEnv(EnvName(f.Name)); ok {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Sprintf("%s=%q: %v", EnvName(f.Name), v, err))
			}
		}
	})
	if errs != nil {
		sort.Strings(errs)
		return nil, usageErr("bad environment variable: %s", strings.Join(errs, "; "))
	}
	return pos, nil
}

// subcommand splits "trek map list ..." into "list" and the rest.
func subcommand(args []string, known ...string) (string, []string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return "", nil, usageErr("say what to do: %s", strings.Join(known, ", "))
	}
	for _, k := range known {
		if args[0] == k {
			return k, args[1:], nil
		}
	}
	return "", nil, usageErr("unknown subcommand %q; want one of %s", args[0], strings.Join(known, ", "))
}
