// Command teleread is the Teleread workstation: with no subcommand it opens the
// reading app; subcommands do the same work headless (import, info, render, sync,
// report, ...). main only reads flags and configuration and wires packages together.
package main

import (
	"fmt"
	"log"
	"os"
	"runtime/debug"

	_ "teleread/cmd/teleread/internal/guilocale" // before Fyne reads the locale (see there)
)

func main() {
	// Logged errors carry file and archive names too.
	log.SetOutput(stderr)
	os.Exit(run(os.Args[1:]))
}

// command is one subcommand: it gets the global options and its own arguments and
// returns the exit status.
type command struct {
	summary string
	run     func(g *globals, args []string) int
}

var commands = map[string]command{
	"app":      {"open the reading workstation (the default)", runApp},
	"import":   {"import files, folders, zip archives and DICOMDIRs into the cache", runImport},
	"studies":  {"list the cached studies", runStudies},
	"worklist": {"list the synced worklist in reading order (priority, STAT first), then the priors", runWorklist},
	"info":     {"print one file's metadata without decoding pixels", runInfo},
	"verify":   {"check every cached file against the index", runVerify},
	"render":   {"render one frame of a file to PNG, PGM or PPM", runRender},
	"sync":     {"pull the assigned worklist and priors from the archive, deliver the outbox", runSync},
	"report":   {"write, sign, amend or export a study's report", runReport},
	"outbox":   {"show (and with --send, deliver) signed reports waiting for the archive", runOutbox},
	"open":     {"open a shared study: folder, zip, DICOMDIR or DICOMweb study URL", runOpen},
	"export":   {"export studies as a zip with a DICOMDIR or by STOW-RS, optionally de-identified", runExport},
	"audit":    {"list the audit trail of access to patient data, --verify its hash chain, or --send it to audit_syslog", runAudit},
	"keys":     {"show where the cache's master key is kept (status) or replace it (rotate)", runKeys},
	"login":    {"sign in to the archive's OpenID Connect provider (--device: from another device's browser)", runLogin},
	"logout":   {"sign out: revoke the archive session at the provider and delete it here", runLogout},
	"whoami":   {"say who is signed in to the archive and when the session expires", runWhoami},
	"purge":    {"remove studies for good (key shredded, files and rows removed); never unreported work", runPurge},
	"migrate":  {"encrypt the files of a cache written before encryption at rest (any command does it first)", runMigrate},
}

func run(args []string) int {
	g, rest, err := parseGlobals(args)
	if err != nil {
		fmt.Fprintln(stderr, "teleread:", err)
		return 2
	}
	if len(rest) == 0 {
		defer startAuditSyslog(g)()
		return runApp(g, nil)
	}
	name := rest[0]
	if name == "help" || name == "-h" || name == "--help" {
		usage()
		return 0
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "teleread: unknown command %q\n", name)
		usage()
		return 2
	}
	if name != "app" && os.Getenv("GOMEMLIMIT") == "" {
		// Headless commands hold one file or a few at a time: a soft limit
		// makes the collector hand back what a refused hostile input left
		// (a 64 MiB inflate buffer) before the heap grows to twice its
		// live size. The app keeps decoded frames of whole series and sets none.
		debug.SetMemoryLimit(headlessMemoryLimit)
	}
	if name != "audit" { // reads the trail, appends nothing; --send forwards by itself
		defer startAuditSyslog(g)()
	}
	return c.run(g, rest[1:])
}

// headlessMemoryLimit is the soft memory limit of the headless commands.
const headlessMemoryLimit = 160 << 20
