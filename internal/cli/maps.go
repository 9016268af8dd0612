package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/trekhq/trek/internal/journey"
	"github.com/trekhq/trek/internal/meta"
)

func outputFlag(fsOut *string) (bool, error) {
	switch *fsOut {
	case "table", "":
		return false, nil
	case "json":
		return true, nil
	}
	return false, usageErr("--output must be table or json")
}

func runMap(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub, args, err := subcommand(args, "list", "show", "create", "export", "import", "delete")
	if err != nil {
		return err
	}
	fs := newFlags("map "+sub, stderr)
	cf := addClientFlags(fs)
	output := fs.String("output", "table", "output: table or json")
	var q, kind, persona, tag, format, out, tmpl, locale, name, file *string
	switch sub {
	case "list":
		q = fs.String("q", "", "search text in name, description, goal and tags")
		kind = fs.String("kind", "", "only maps of this kind")
		persona = fs.String("persona", "", "only maps for this persona id")
		tag = fs.String("tag", "", "only maps with this tag")
	case "export":
		format = fs.String("format", "json", "json (re-importable, with personas) or csv (one row per step and lane)")
		out = fs.String("out", "", "file to write (default: standard output)")
	case "create":
		tmpl = fs.String("template", "", "template id to start from (see GET /api/v1/templates)")
		locale = fs.String("locale", "en", "template language: en, vi, el or pl")
		name = fs.String("name", "", "name of the new map")
		file = fs.String("file", "", "create from a map document in this JSON file instead of a template")
	}
	pos, asJSON, c, err := parseClient(fs, args, cf, output)
	if err != nil {
		return err
	}
	needID := func() (string, error) {
		if len(pos) != 1 {
			return "", usageErr("give one map id")
		}
		return url.PathEscape(pos[0]), nil
	}
	switch sub {
	case "list":
		v := url.Values{}
		for k, p := range map[string]*string{"q": q, "kind": kind, "persona": persona, "tag": tag} {
			if *p != "" {
				v.Set(k, *p)
			}
		}
		var res struct {
			Maps []meta.MapSummary `json:"maps"`
		}
		if _, err := c.do(ctx, "GET", "/api/v1/maps?"+v.Encode(), nil, nil, &res); err != nil {
			return err
		}
		if asJSON {
			return printJSON(stdout, res)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tKIND\tSTAGES\tSTEPS\tVERSION\tUPDATED\tBY")
		for _, m := range res.Maps {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", m.ID, m.Name, m.Kind, m.Stages, m.Steps, m.Version,
				m.UpdatedAt.Local().Format("2006-01-02 15:04"), m.UpdatedBy)
		}
		return tw.Flush()
	case "show":
		id, err := needID()
		if err != nil {
			return err
		}
		var m journey.Map
		if _, err := c.do(ctx, "GET", "/api/v1/maps/"+id, nil, nil, &m); err != nil {
			return err
		}
		if asJSON {
			return printJSON(stdout, m)
		}
		printOutline(stdout, &m)
		return nil
	case "create":
		var body any
		switch {
		case *file != "" && *tmpl != "":
			return usageErr("give --template or --file, not both")
		case *file != "":
			raw, err := os.ReadFile(*file)
			if err != nil {
				return fmt.Errorf("read %s: %w", *file, err)
			}
			body = raw
		case *tmpl != "":
			body = map[string]any{"template": *tmpl, "locale": *locale, "name": *name}
		default:
			return usageErr("give --template ID or --file FILE")
		}
		var m journey.Map
		if _, err := c.do(ctx, "POST", "/api/v1/maps", body, nil, &m); err != nil {
			return err
		}
		if asJSON {
			return printJSON(stdout, m)
		}
		fmt.Fprintf(stdout, "created map %s %q (version %d)\n", m.ID, m.Name, m.Version)
		return nil
	case "export":
		id, err := needID()
		if err != nil {
			return err
		}
		if *format != "json" && *format != "csv" {
			return usageErr("--format must be json or csv")
		}
		w := stdout
		var f *os.File
		if *out != "" {
			if f, err = os.CreateTemp(dirOf(*out), ".export-*"); err != nil {
				return fmt.Errorf("create %s: %w", *out, err)
			}
			defer os.Remove(f.Name())
			w = f
		}
		if _, err := c.do(ctx, "GET", "/api/v1/maps/"+id+"/export?format="+*format, nil, nil, w); err != nil {
			if f != nil {
				f.Close()
			}
			return err
		}
		if f != nil {
			if err := f.Sync(); err != nil {
				f.Close()
				return fmt.Errorf("write %s: %w", *out, err)
			}
			if err := f.Close(); err != nil {
				return fmt.Errorf("write %s: %w", *out, err)
			}
			if err := os.Rename(f.Name(), *out); err != nil {
				return fmt.Errorf("write %s: %w", *out, err)
			}
			fmt.Fprintf(stderr, "wrote %s\n", *out)
		}
		return nil
	case "import":
		if len(pos) != 1 {
			return usageErr("give the file to import (as written by 'trek map export')")
		}
		raw, err := readInput(pos[0])
		if err != nil {
			return err
		}
		var res struct {
			Map      journey.Map `json:"map"`
			Warnings []string    `json:"warnings"`
		}
		if _, err := c.do(ctx, "POST", "/api/v1/maps/import", raw, nil, &res); err != nil {
			return err
		}
		if asJSON {
			return printJSON(stdout, res)
		}
		for _, w := range res.Warnings {
			fmt.Fprintln(stderr, "warning:", w)
		}
		fmt.Fprintf(stdout, "imported map %s %q\n", res.Map.ID, res.Map.Name)
		return nil
	case "delete":
		id, err := needID()
		if err != nil {
			return err
		}
		if _, err := c.do(ctx, "DELETE", "/api/v1/maps/"+id, nil, nil, nil); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "deleted map", pos[0])
	}
	return nil
}

func dirOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i+1]
	}
	return "."
}

func readInput(name string) ([]byte, error) {
	if name == "-" {
		raw, err := io.ReadAll(io.LimitReader(os.Stdin, 64<<20))
		if err != nil {
			return nil, fmt.Errorf("read standard input: %w", err)
		}
		return raw, nil
	}
	raw, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return raw, nil
}

// printOutline prints a map as an indented outline of stages and steps.
func printOutline(w io.Writer, m *journey.Map) {
	fmt.Fprintf(w, "%s  (%s, version %d, %s)\n", m.Name, m.Kind, m.Version, m.ID)
	if m.Goal != "" {
		fmt.Fprintf(w, "Goal: %s\n", m.Goal)
	}
	for i, st := range m.Stages {
		fmt.Fprintf(w, "\n%d. %s\n", i+1, st.Name)
		for _, sp := range st.Steps {
			emo := ""
			if sp.Emotion != nil {
				emo = fmt.Sprintf("  [emotion %+d]", sp.Emotion.Score)
			}
			fmt.Fprintf(w, "   - %s%s\n", sp.Name, emo)
			for _, t := range sp.Touchpoints {
				fmt.Fprintf(w, "       %s: %s\n", t.Channel, t.Name)
			}
			for _, p := range sp.PainPoints {
				fmt.Fprintf(w, "       pain: %s\n", p)
			}
			if sp.Binding != nil {
				fmt.Fprintf(w, "       bound to: %s\n", strings.Join(sp.Binding.Events, ", "))
			}
		}
	}
}

func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub, args, err := subcommand(args, "list", "show", "restore", "diff")
	if err != nil {
		return err
	}
	fs := newFlags("version "+sub, stderr)
	cf := addClientFlags(fs)
	output := fs.String("output", "table", "output: table or json")
	var from, to *int
	if sub == "diff" {
		from = fs.Int("from", 0, "older version (default: the one before --to)")
		to = fs.Int("to", 0, "newer version (default: the current one)")
	}
	pos, asJSON, c, err := parseClient(fs, args, cf, output)
	if err != nil {
		return err
	}
	want := 1
	if sub == "show" || sub == "restore" {
		want = 2
	}
	if len(pos) != want {
		if want == 1 {
			return usageErr("give the map id")
		}
		return usageErr("give the map id and the version number")
	}
	id := url.PathEscape(pos[0])
	var n int
	if want == 2 {
		if n, err = strconv.Atoi(pos[1]); err != nil || n <= 0 {
			return usageErr("the version must be a number (1, 2, ...)")
		}
	}
	switch sub {
	case "list":
		var res struct {
			Versions []meta.Version `json:"versions"`
		}
		if _, err := c.do(ctx, "GET", "/api/v1/maps/"+id+"/versions", nil, nil, &res); err != nil {
			return err
		}
		if asJSON {
			return printJSON(stdout, res)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VERSION\tWHEN\tAUTHOR\tMESSAGE")
		for _, v := range res.Versions {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", v.Version, v.CreatedAt.Local().Format(time.DateTime), v.Author, v.Message)
		}
		return tw.Flush()
	case "show":
		var m journey.Map
		if _, err := c.do(ctx, "GET", fmt.Sprintf("/api/v1/maps/%s/versions/%d", id, n), nil, nil, &m); err != nil {
			return err
		}
		if asJSON {
			return printJSON(stdout, m)
		}
		printOutline(stdout, &m)
	case "restore":
		var m journey.Map
		if _, err := c.do(ctx, "POST", fmt.Sprintf("/api/v1/maps/%s/versions/%d/restore", id, n), nil, http.Header{}, &m); err != nil {
			return err
		}
		if asJSON {
			return printJSON(stdout, m)
		}
		fmt.Fprintf(stdout, "restored version %d of %s as version %d\n", n, pos[0], m.Version)
	case "diff":
		v := url.Values{}
		if *from > 0 {
			v.Set("from", strconv.Itoa(*from))
		}
		if *to > 0 {
			v.Set("to", strconv.Itoa(*to))
		}
		var res struct {
			From    int              `json:"from"`
			To      int              `json:"to"`
			Changes []journey.Change `json:"changes"`
		}
		if _, err := c.do(ctx, "GET", "/api/v1/maps/"+id+"/diff?"+v.Encode(), nil, nil, &res); err != nil {
			return err
		}
		if asJSON {
			return printJSON(stdout, res)
		}
		fmt.Fprintf(stdout, "version %d → %d: %d changes\n", res.From, res.To, len(res.Changes))
		for _, ch := range res.Changes {
			fmt.Fprintf(stdout, "  %-8s %-6s %s", ch.Op, ch.Kind, ch.Path)
			if ch.Name != "" {
				fmt.Fprintf(stdout, " (%s)", ch.Name)
			}
			if ch.Op == "changed" {
				fmt.Fprintf(stdout, ": %s → %s", compact(ch.From), compact(ch.To))
			}
			fmt.Fprintln(stdout)
		}
	}
	return nil
}

func compact(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	s := string(raw)
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}
