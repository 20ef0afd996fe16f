package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"golang.org/x/term"

	"teleread/cache"
)

func runKeys(g *globals, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: teleread keys status [--json] | rotate [--keystore keyring|passphrase] [--new-passphrase]")
		return 2
	}
	switch args[0] {
	case "status":
		return runKeysStatus(g, args[1:])
	case "rotate":
		return runKeysRotate(g, args[1:])
	}
	fmt.Fprintf(stderr, "teleread: keys: unknown subcommand %q (status, rotate)\n", args[0])
	return 2
}

// runKeysStatus says where the master key is and whether it unlocks; it
// prints no secret.
func runKeysStatus(g *globals, args []string) int {
	fs := flag.NewFlagSet("keys status", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	if rest, err := interleaved(fs, args); err != nil || len(rest) != 0 {
		return 2
	}
	if _, err := os.Stat(g.home); err != nil {
		return fail(fmt.Errorf("keys: no cache at %s", g.home))
	}
	info, err := cache.ReadKeyInfo(g.home)
	if err != nil {
		return fail(err)
	}
	unlockErr := ""
	if info.Keystore != "" {
		c, err := g.openCache()
		if err != nil {
			unlockErr = err.Error()
		} else {
			c.Close()
		}
	}
	if *asJSON {
		return printJSON(struct {
			cache.KeyInfo
			Unlocks bool   `json:"unlocks"`
			Error   string `json:"error,omitempty"`
		}{info, info.Keystore != "" && unlockErr == "", unlockErr})
	}
	switch info.Keystore {
	case "":
		fmt.Fprintf(stdout, "cache %s: no master key yet (it is made when the cache is first opened)\n", g.home)
		return 0
	case cache.KeystoreKeyring:
		fmt.Fprintf(stdout, "master key: OS keyring, service %q, account %q\n", info.KeyringService, info.KeyringAccount)
	case cache.KeystorePassphrase:
		fmt.Fprintf(stdout, "master key: wrapped by a passphrase in the index (%s)\n", info.KDF)
	}
	fmt.Fprintf(stdout, "generation: %d\nstudy keys: %d\n", info.Generation, info.StudyKeys)
	if info.Retired > 0 {
		fmt.Fprintf(stdout, "retired keys still in the keyring: %d (deleted at the next open)\n", info.Retired)
	}
	if unlockErr != "" {
		fmt.Fprintf(stdout, "unlocks: no (%s)\n", unlockErr)
		return 1
	}
	fmt.Fprintln(stdout, "unlocks: yes")
	return 0
}

// runKeysRotate replaces the master key and re-wraps every study key.
func runKeysRotate(g *globals, args []string) int {
	fs := flag.NewFlagSet("keys rotate", flag.ContinueOnError)
	store := fs.String("keystore", "", "where the new master key goes: keyring or passphrase (default: where the current one is)")
	newPass := fs.Bool("new-passphrase", false, "wrap the new master key with a new passphrase ("+newPassphraseEnv+", else asked on the terminal)")
	if rest, err := interleaved(fs, args); err != nil || len(rest) != 0 {
		return 2
	}
	c, err := g.openCache()
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	res, err := c.RotateMasterKey(context.Background(), cache.RotateOptions{
		Keystore: *store, NewPassphrase: *newPass, Passphrase: newPassphrase,
	})
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "master key rotated: generation %d in the %s keystore, %d study keys re-wrapped\n", res.Generation, res.Keystore, res.Rewrapped)
	return 0
}

// newPassphraseEnv gives the new passphrase of `keys rotate` without a
// terminal.
const newPassphraseEnv = "TELEREAD_NEW_PASSPHRASE"

// newPassphrase is the PassphraseFunc of `keys rotate` for the new
// passphrase: $TELEREAD_NEW_PASSPHRASE, else the terminal
// ($TELEREAD_PASSPHRASE holds the one being replaced).
func newPassphrase(req cache.PassphraseRequest) ([]byte, error) {
	if p := os.Getenv(newPassphraseEnv); p != "" {
		return []byte(p), nil
	}
	return terminalPassphrase(req)
}

// passphraseFunc returns how the commands ask for the passphrase: on the
// terminal when stdin is one, else nobody (TELEREAD_PASSPHRASE must be set).
func passphraseFunc() cache.PassphraseFunc {
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return nil
	}
	return terminalPassphrase
}

// terminalPassphrase reads a passphrase from the terminal without echo; a new
// one is asked twice.
func terminalPassphrase(req cache.PassphraseRequest) ([]byte, error) {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return nil, errors.New("no terminal to ask the passphrase on; set " + cache.EnvPassphrase)
	}
	prompt := fmt.Sprintf("Passphrase of the cache %s: ", req.Home)
	switch {
	case req.New:
		prompt = fmt.Sprintf("New passphrase for the cache %s (it protects the master key; lost, the cache cannot be read): ", req.Home)
	case req.Retry:
		prompt = "Wrong passphrase. Again: "
	}
	fmt.Fprint(os.Stderr, prompt)
	p, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	if req.New {
		fmt.Fprint(os.Stderr, "The same again: ")
		again, err := term.ReadPassword(fd)
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return nil, fmt.Errorf("read passphrase: %w", err)
		}
		if !bytes.Equal(p, again) {
			return nil, errors.New("the passphrases differ")
		}
	}
	return p, nil
}
