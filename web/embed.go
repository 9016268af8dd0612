// Package web holds trek's web app, built by Vite into dist/ and embedded
// in the binary, so that 'go build' alone gives a server with its UI.
// The sources are in src/; web/check-dist.sh fails when dist/ is stale.
package web

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Dist is the built app: index.html at its root, hashed files in assets/.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		// fs.Sub fails only for an invalid path, and "dist" is valid.
		panic(err)
	}
	return sub
}
