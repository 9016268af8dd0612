package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/trekhq/trek/internal/auth"
	"github.com/trekhq/trek/internal/datadir"
	"github.com/trekhq/trek/internal/fault"
	"github.com/trekhq/trek/internal/meta"
	"github.com/trekhq/trek/internal/meta/sqlite"
)

// openMeta opens a data directory's metadata store without taking the
// directory lock: SQLite serialises writers itself, so tokens and users can
// be managed while the server runs.
func openMeta(ctx context.Context, dir string) (*sqlite.Store, error) {
	if dir == "" {
		return nil, usageErr("--data is required")
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	st, err := sqlite.Open(ctx, datadir.MetaPath(dir))
	if err != nil {
		return nil, fmt.Errorf("open metadata in %s: %w", dir, err)
	}
	return st, nil
}

func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub, args, err := subcommand(args, "create", "list", "revoke")
	if err != nil {
		return err
	}
	fs := newFlags("token "+sub, stderr)
	dir := fs.String("data", "trek-data", "data directory")
	ws := fs.String("workspace", DefaultWorkspace, "workspace the token acts in")
	var name, role *string
	if sub == "create" {
		name = fs.String("name", "", "what the token is for, e.g. ci-export (required)")
		role = fs.String("role", "viewer", "role of the token: viewer, editor or admin")
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	store, err := openMeta(ctx, *dir)
	if err != nil {
		return err
	}
	defer store.Close()
	w, err := store.Workspace(ctx, *ws)
	if err != nil {
		return fmt.Errorf("workspace %s: %w", *ws, err)
	}
	switch sub {
	case "create":
		if strings.TrimSpace(*name) == "" {
			return usageErr("--name is required")
		}
		r, err := auth.ParseRole(*role)
		if err != nil {
			return usageErr("--role: %v", err)
		}
		secret, hash := auth.NewSecret(auth.TokenPrefix)
		if _, err := store.CreateToken(ctx, meta.Token{Name: strings.TrimSpace(*name), WorkspaceID: w.ID, Role: r, Hash: hash,
			CreatedBy: "cli", CreatedAt: time.Now().UTC()}); err != nil {
			return err
		}
		// The token alone on stdout, so scripts can capture it.
		fmt.Fprintln(stdout, secret)
	case "list":
		ts, err := store.Tokens(ctx, w.ID)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tCREATED\tLAST USED")
		for _, t := range ts {
			last := "never"
			if t.LastUsedAt != nil {
				last = t.LastUsedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, t.CreatedAt.Format(time.RFC3339), last)
		}
		return tw.Flush()
	case "revoke":
		if len(pos) != 1 {
			return usageErr("give the id of the token to revoke (see 'trek token list')")
		}
		if err := store.DeleteToken(ctx, w.ID, pos[0]); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "revoked", pos[0])
	}
	return nil
}

func runUser(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub, args, err := subcommand(args, "create", "passwd", "list")
	if err != nil {
		return err
	}
	fs := newFlags("user "+sub, stderr)
	dir := fs.String("data", "trek-data", "data directory")
	ws := fs.String("workspace", DefaultWorkspace, "workspace to add the user to (created if missing)")
	name := fs.String("name", "", "login name (required)")
	role := fs.String("role", "viewer", "role in the workspace: viewer, editor or admin")
	password := fs.String("password", "", "the password; prefer --password-stdin, which keeps it out of the process list")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	store, err := openMeta(ctx, *dir)
	if err != nil {
		return err
	}
	defer store.Close()
	if sub == "list" {
		w, err := store.Workspace(ctx, *ws)
		if err != nil {
			return fmt.Errorf("workspace %s: %w", *ws, err)
		}
		ms, err := store.Members(ctx, w.ID)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USER\tROLE\tSINCE")
		for _, m := range ms {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", m.UserName, m.Role, m.Since.Format(time.RFC3339))
		}
		return tw.Flush()
	}
	if *name == "" {
		return usageErr("--name is required")
	}
	pw := *password
	if *fromStdin {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("read password from stdin: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return usageErr("password: %v", err)
	}
	switch sub {
	case "create":
		r, err := auth.ParseRole(*role)
		if err != nil {
			return usageErr("--role: %v", err)
		}
		w, err := ensureWorkspace(ctx, store, *ws)
		if err != nil {
			return err
		}
		u, err := store.CreateUser(ctx, *name, hash)
		if err != nil {
			return err
		}
		if err := store.SetMember(ctx, w.ID, u.ID, r); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created user %s (%s in %s)\n", u.Name, r, w.Slug)
	case "passwd":
		u, err := store.User(ctx, *name)
		if err != nil {
			if fault.CodeOf(err) == fault.NotFound {
				return fmt.Errorf("no user %s", *name)
			}
			return err
		}
		if err := store.SetPassword(ctx, u.ID, hash); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s changed\n", u.Name)
	}
	return nil
}

// printJSON writes v indented, for --output json.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
