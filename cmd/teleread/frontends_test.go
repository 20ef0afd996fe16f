package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestFrontEndsUseTheSyncService: `teleread sync` and the app are front-ends
// on one sync service (sync.Service): each builds one, and neither builds a
// Puller, evicts, or delivers the outbox in a loop of its own. The one
// Outbox outside the service is `outbox --send`, a single delivery the user
// asks for.
func TestFrontEndsUseTheSyncService(t *testing.T) {
	type use struct{ file, what string }
	var uses []use
	for _, dir := range []string{".", filepath.Join("..", "..", "app")} {
		names, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(names) == 0 {
			t.Fatalf("%s: no Go files (%v)", dir, err)
		}
		fset := token.NewFileSet()
		for _, name := range names {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			{
				fn := ""
				ast.Inspect(f, func(n ast.Node) bool {
					switch n := n.(type) {
					case *ast.FuncDecl:
						fn = n.Name.Name
					case *ast.CompositeLit:
						if sel, ok := n.Type.(*ast.SelectorExpr); ok {
							if x, ok := sel.X.(*ast.Ident); ok && x.Name == "tsync" {
								uses = append(uses, use{filepath.Base(name) + ":" + fn, "tsync." + sel.Sel.Name})
							}
						}
					case *ast.CallExpr:
						if sel, ok := n.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "Evict" || sel.Sel.Name == "Pull") {
							uses = append(uses, use{filepath.Base(name) + ":" + fn, "." + sel.Sel.Name + "()"})
						}
					}
					return true
				})
			}
		}
	}
	services := map[string]bool{}
	for _, u := range uses {
		switch u.what {
		case "tsync.Service":
			services[u.file] = true
		case "tsync.Puller", ".Evict()", ".Pull()":
			t.Errorf("%s: %s outside the sync service", u.file, u.what)
		case "tsync.Outbox":
			if u.file != "reportcmds.go:runOutbox" {
				t.Errorf("%s: an outbox sender outside the sync service", u.file)
			}
		}
	}
	for _, want := range []string{"synccmd.go:runSync", "syncloop.go:newSyncLoop"} {
		if !services[want] {
			t.Errorf("%s does not run the sync service (services built in %v)", want, services)
		}
	}
}
