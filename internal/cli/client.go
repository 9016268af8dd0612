package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/trekhq/trek/internal/fault"
)

// client talks to a trek server's API with a bearer token.
type client struct {
	base  *url.URL
	token string
	http  *http.Client
}

type clientFlags struct {
	server, token *string
}

func addClientFlags(fs *flag.FlagSet) clientFlags {
	return clientFlags{
		server: fs.String("server", "http://127.0.0.1:8080", "trek server URL"),
		token:  fs.String("token", "", "bearer token (see 'trek token create'); it names the workspace too"),
	}
}

func (f clientFlags) client() (*client, error) {
	if *f.token == "" {
		return nil, usageErr("--token (or TREK_TOKEN) is required")
	}
	u, err := url.Parse(*f.server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageErr("--server must be an http(s) URL, e.g. http://127.0.0.1:8080")
	}
	return &client{base: u, token: *f.token, http: &http.Client{Timeout: 60 * time.Second}}, nil
}

// do sends a request and decodes a JSON answer into out (unless out is nil).
// A non-2xx answer becomes a *fault.Error carrying the server's message.
func (c *client) do(ctx context.Context, method, path string, body any, hdr http.Header, out any) (http.Header, error) {
	var rd io.Reader
	if body != nil {
		raw, ok := body.([]byte)
		if !ok {
			var err error
			if raw, err = json.Marshal(body); err != nil {
				return nil, fmt.Errorf("encode request: %w", err)
			}
		}
		rd = bytes.NewReader(raw)
	}
	ref, err := url.Parse(path)
	if err != nil {
		return nil, fmt.Errorf("bad path %s: %w", path, err)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.ResolveReference(ref).String(), rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return resp.Header, decodeAPIError(resp)
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return resp.Header, err
	}
	if w, ok := out.(io.Writer); ok {
		_, err = io.Copy(w, resp.Body)
		return resp.Header, err
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return resp.Header, fmt.Errorf("decode answer of %s %s: %w", method, path, err)
	}
	return resp.Header, nil
}

func decodeAPIError(resp *http.Response) error {
	var body struct {
		Error struct {
			Code    fault.Code         `json:"code"`
			Message string             `json:"message"`
			Fields  []fault.FieldError `json:"fields"`
			Current any                `json:"current"`
		} `json:"error"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err := json.Unmarshal(raw, &body); err != nil || body.Error.Message == "" {
		return fmt.Errorf("server answered %s: %s", resp.Status, strings.TrimSpace(string(raw)))
	}
	return &fault.Error{Code: body.Error.Code, Message: fmt.Sprintf("%s (HTTP %d)", body.Error.Message, resp.StatusCode),
		Fields: body.Error.Fields, Current: body.Error.Current}
}

// upload streams a file body to the server (a POST) and decodes the answer.
func (c *client) upload(ctx context.Context, path string, body io.Reader, out any) (http.Header, error) {
	ref, err := url.Parse(path)
	if err != nil {
		return nil, fmt.Errorf("bad path %s: %w", path, err)
	}
	req, err := http.NewRequestWithContext(ctx, "POST", c.base.ResolveReference(ref).String(), body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/octet-stream")
	// An import can take long; only the context bounds it.
	hc := *c.http
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return resp.Header, decodeAPIError(resp)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return resp.Header, fmt.Errorf("decode answer of POST %s: %w", path, err)
	}
	return resp.Header, nil
}

// parseClient parses a client command's flags and returns its positional
// arguments, whether --output asks for JSON, and the API client.
func parseClient(fs *flag.FlagSet, args []string, cf clientFlags, output *string) ([]string, bool, *client, error) {
	pos, err := parse(fs, args)
	if err != nil {
		return nil, false, nil, err
	}
	asJSON, err := outputFlag(output)
	if err != nil {
		return nil, false, nil, err
	}
	c, err := cf.client()
	if err != nil {
		return nil, false, nil, err
	}
	return pos, asJSON, c, nil
}
