package app

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	tsync "teleread/sync"
	"teleread/sync/config"
)

// Settings edit the configuration file every command reads (config.Path():
// $TELEREAD_CONFIG or ~/.config/teleread/config.json) through config.Save:
// the secret goes to the system keyring, never into the file, and a change
// takes effect at once (the sync service reconnects with it).

// Preference keys of the settings earlier versions kept in the Fyne
// preferences; migratePreferences moves them into the configuration file once.
const (
	prefArchiveURL    = "archive.url"
	prefAuthKind      = "archive.auth" // none, basic, bearer
	prefAuthUser      = "archive.user"
	prefAuthSecret    = "archive.secret" // sealed password or token (see secretBox)
	prefReaderName    = "reader.name"
	prefReaderOrg     = "reader.organization"
	prefWorklistQuery = "worklist.query"
	prefPriors        = "worklist.priors"
	prefCacheLimitGB  = "cache.limit_gb"
	prefTurnaroundMin = "worklist.turnaround_minutes"
	// prefMigrated is set once the preferences above went into the file.
	prefMigrated = "settings.in_config_file"
)

// migratePreferences moves the settings an earlier version kept in the Fyne
// preferences into the configuration file at path, once: a file that names
// an archive already wins and the preferences are only dropped. The secret
// goes to the keyring; where there is none it is left behind and the note
// says so. It returns a note for the status bar ("" for none).
func migratePreferences(prefs fyne.Preferences, home, path string) (string, error) {
	if prefs.Bool(prefMigrated) {
		return "", nil
	}
	url := strings.TrimSpace(prefs.String(prefArchiveURL))
	note := ""
	if url != "" {
		conf, err := config.LoadFile(path)
		if err != nil {
			return "", fmt.Errorf("app: settings: %w", err)
		}
		if conf.Archive == "" {
			conf = preferencesConfig(prefs, conf)
			secret, serr := newSecretBox(home).open(prefs.String(prefAuthSecret))
			switch conf.Auth {
			case "basic":
				conf.Password = secret
			case "bearer":
				conf.Token = secret
			}
			err := config.Save(path, conf)
			if errors.Is(err, config.ErrNoKeyring) {
				conf.Password, conf.Token = "", ""
				err = config.Save(path, conf)
				note = "the archive password of the old settings could not go to the keyring: enter it in Settings, or name a token_file"
			} else if serr != nil && secret == "" && conf.Auth != "none" {
				note = "the stored archive password could not be opened: enter it again in Settings"
			}
			if err != nil {
				return "", fmt.Errorf("app: settings: %w", err)
			}
			if note == "" {
				note = "settings moved to " + path
			}
		}
	}
	for _, k := range []string{prefArchiveURL, prefAuthKind, prefAuthUser, prefAuthSecret, prefReaderName, prefReaderOrg,
		prefWorklistQuery, prefPriors, prefCacheLimitGB, prefTurnaroundMin} {
		prefs.RemoveValue(k)
	}
	prefs.SetBool(prefMigrated, true)
	return note, nil
}

// preferencesConfig is conf with the old preferences' values.
func preferencesConfig(prefs fyne.Preferences, conf config.Config) config.Config {
	conf.Archive = strings.TrimSpace(prefs.String(prefArchiveURL))
	conf.Auth = prefs.StringWithFallback(prefAuthKind, "none")
	conf.User = prefs.String(prefAuthUser)
	conf.Reader = prefs.String(prefReaderName)
	conf.Organization = prefs.String(prefReaderOrg)
	conf.WorklistQuery = prefs.String(prefWorklistQuery)
	if n := prefs.IntWithFallback(prefPriors, -1); n >= 0 {
		conf.Priors = &n
	}
	if gb := prefs.Float(prefCacheLimitGB); gb > 0 {
		conf.CacheLimitGB = gb
	}
	if m := prefs.Int(prefTurnaroundMin); m > 0 {
		// The old single target was an hour, STAT a quarter of it.
		conf.TurnaroundMinutes = tsync.TurnaroundMinutes{STAT: float64(m) / 4, High: float64(m), Routine: float64(m)}
	}
	return conf
}

// settingsForm is the Settings dialog's widgets.
type settingsForm struct {
	url, user, secret, tokenFile, caFile        *widget.Entry
	issuer, tokenURL, clientID, scopes          *widget.Entry
	reader, org, query, assigned, priors, limit *widget.Entry
	stat, high, routine, retention              *widget.Entry
	auth, worklist                              *widget.Select
}

func numText(f float64) string {
	if f == 0 {
		return ""
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func newSettingsForm(c config.Config) *settingsForm {
	entry := func(text, placeholder string) *widget.Entry {
		e := widget.NewEntry()
		e.SetText(text)
		e.SetPlaceHolder(placeholder)
		return e
	}
	f := &settingsForm{
		url:       entry(c.Archive, "https://pacs.example.org/dicom-web"),
		user:      entry(c.User, ""),
		secret:    widget.NewPasswordEntry(),
		tokenFile: entry(c.TokenFile, "a file (chmod 600) holding a bearer token"),
		caFile:    entry(c.CAFile, "extra trusted CA certificates (PEM)"),
		issuer:    entry("", "https://login.example.org (sign-in at the archive's provider)"),
		tokenURL:  entry("", "https://login.example.org/token"),
		clientID:  entry("", ""),
		scopes:    entry("", "space-separated"),
		reader:    entry(c.Reader, "Family^Given"),
		org:       entry(c.Organization, ""),
		query:     entry(c.WorklistQuery, "NameOfPhysiciansReadingStudy=*Reader*"),
		assigned:  entry(c.AssignedAttribute, "e.g. StudyDate+StudyTime (default: when first seen)"),
		priors:    entry(strconv.Itoa(c.PriorsPerStudy()), ""),
		limit:     entry(numText(c.CacheLimitGB), "no limit"),
		retention: entry(func() string {
			if c.RetentionDays == 0 {
				return ""
			}
			return strconv.Itoa(c.RetentionDays)
		}(), "keep until evicted"),
	}
	if c.OAuth2 != nil {
		f.issuer.SetText(c.OAuth2.Issuer)
		f.tokenURL.SetText(c.OAuth2.TokenURL)
		f.clientID.SetText(c.OAuth2.ClientID)
		f.scopes.SetText(strings.Join(c.OAuth2.Scopes, " "))
	}
	if p := secretOf(&c); p != nil {
		f.secret.SetText(*p)
	}
	t := c.Turnaround()
	f.stat = entry(numText(t.STAT.Minutes()), "")
	f.high = entry(numText(t.High.Minutes()), "")
	f.routine = entry(numText(t.Routine.Minutes()), "")
	f.auth = widget.NewSelect([]string{"none", "basic", "bearer", "oauth2"}, nil)
	f.auth.SetSelected(c.AuthKind())
	f.worklist = widget.NewSelect([]string{"query", "ups"}, nil)
	f.worklist.SetSelected(map[bool]string{true: "ups", false: "query"}[c.Worklist == "ups"])
	return f
}

// secretOf points at the secret the configuration's auth uses.
func secretOf(c *config.Config) *string {
	switch c.AuthKind() {
	case "basic":
		return &c.Password
	case "bearer":
		return &c.Token
	case "oauth2":
		if c.OAuth2 != nil {
			return &c.OAuth2.ClientSecret
		}
	}
	return nil
}

func (f *settingsForm) items() []*widget.FormItem {
	return []*widget.FormItem{
		widget.NewFormItem("Archive (DICOMweb) URL", f.url),
		widget.NewFormItem("Authentication", f.auth),
		widget.NewFormItem("User", f.user),
		widget.NewFormItem("Password / token / client secret", f.secret),
		widget.NewFormItem("Token file", f.tokenFile),
		widget.NewFormItem("OAuth2 issuer (sign-in)", f.issuer),
		widget.NewFormItem("OAuth2 token URL", f.tokenURL),
		widget.NewFormItem("OAuth2 client ID", f.clientID),
		widget.NewFormItem("OAuth2 scopes", f.scopes),
		widget.NewFormItem("CA file", f.caFile),
		widget.NewFormItem("Reader name", f.reader),
		widget.NewFormItem("Organization", f.org),
		widget.NewFormItem("Worklist", f.worklist),
		widget.NewFormItem("Worklist query", f.query),
		widget.NewFormItem("Assigned time attribute", f.assigned),
		widget.NewFormItem("Priors per study", f.priors),
		widget.NewFormItem("Cache size limit (GB)", f.limit),
		widget.NewFormItem("Turnaround STAT (min)", f.stat),
		widget.NewFormItem("Turnaround HIGH (min)", f.high),
		widget.NewFormItem("Turnaround ROUTINE (min)", f.routine),
		widget.NewFormItem("Keep studies (days)", f.retention),
	}
}

// errSettingsNumber is returned for a number field that is not one.
var errSettingsNumber = errors.New("priors, cache size, turnaround and days must be numbers, none negative")

// apply returns base (the file as it was) with the form's values; fields
// Settings do not show keep their values.
func (f *settingsForm) apply(base config.Config) (config.Config, error) {
	c := base
	c.Archive = strings.TrimSpace(f.url.Text)
	c.Auth = f.auth.Selected
	c.User = strings.TrimSpace(f.user.Text)
	c.TokenFile = strings.TrimSpace(f.tokenFile.Text)
	c.CAFile = strings.TrimSpace(f.caFile.Text)
	c.Reader = strings.TrimSpace(f.reader.Text)
	c.Organization = strings.TrimSpace(f.org.Text)
	c.Worklist = f.worklist.Selected
	if c.Worklist == "query" {
		c.Worklist = ""
	}
	c.WorklistQuery = strings.TrimSpace(f.query.Text)
	c.AssignedAttribute = strings.TrimSpace(f.assigned.Text)
	c.Password, c.Token, c.OAuth2 = "", "", nil
	if c.Auth == "oauth2" {
		// With an issuer the reader signs in at the provider (the sign-in
		// panel below); without one the token URL's client credentials
		// grant stands for the workstation.
		c.OAuth2 = &config.OAuth2{Issuer: strings.TrimSpace(f.issuer.Text), TokenURL: strings.TrimSpace(f.tokenURL.Text),
			ClientID: strings.TrimSpace(f.clientID.Text), Scopes: strings.Fields(f.scopes.Text)}
	}
	if p := secretOf(&c); p != nil {
		*p = f.secret.Text
	}
	num := func(e *widget.Entry) (float64, error) {
		s := strings.TrimSpace(e.Text)
		if s == "" {
			return 0, nil
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v < 0 {
			return 0, errSettingsNumber
		}
		return v, nil
	}
	var errs [7]error
	var priors, stat, high, routine, days float64
	priors, errs[0] = num(f.priors)
	c.CacheLimitGB, errs[1] = num(f.limit)
	stat, errs[2] = num(f.stat)
	high, errs[3] = num(f.high)
	routine, errs[4] = num(f.routine)
	days, errs[5] = num(f.retention)
	if strings.TrimSpace(f.priors.Text) == "" {
		c.Priors = nil
	} else {
		n := int(priors)
		c.Priors = &n
	}
	c.RetentionDays = int(days)
	c.TurnaroundMinutes = tsync.TurnaroundMinutes{STAT: stat, High: high, Routine: routine}
	if c.TurnaroundMinutes.Turnaround() == tsync.DefaultTurnaround {
		c.TurnaroundMinutes = tsync.TurnaroundMinutes{} // the defaults need no line in the file
	}
	errs[6] = tsync.AssignedAttribute(c.AssignedAttribute).Validate()
	if err := errors.Join(errs[:]...); err != nil {
		return base, err
	}
	if _, err := config.ParseQuery(c.WorklistQuery); err != nil {
		return base, err
	}
	return c, nil
}

// showSettings opens the settings dialog on the configuration file, read off
// the UI goroutine (the keyring may take its time).
func (ws *workstation) showSettings() {
	path := config.Path()
	go func() {
		base, err := config.LoadFile(path)
		ui(func() {
			if err != nil {
				dialog.ShowError(fmt.Errorf("settings: %w", err), ws.win)
				return
			}
			ws.showSettingsOf(path, base)
		})
	}()
}

func (ws *workstation) showSettingsOf(path string, base config.Config) {
	if err := base.SecretError(); err != nil {
		ws.status.setMessage("the keyring cannot be read: " + err.Error())
	}
	f := newSettingsForm(base)
	items := f.items()
	if w := ws.signInWidget(base); w != nil {
		items = append(items, widget.NewFormItem("Sign-in", container.NewStack(w)))
	}
	d := dialog.NewForm("Settings", "Save", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		conf, err := f.apply(base)
		if err != nil {
			dialog.ShowError(err, ws.win)
			return
		}
		ws.saveSettings(path, conf)
	}, ws.win)
	d.Resize(fyne.NewSize(720, 760))
	d.Show()
}

// saveSettings writes conf to the file off the UI goroutine (the keyring may
// take its time) and has the sync service reconnect with it.
func (ws *workstation) saveSettings(path string, conf config.Config) {
	ws.status.setMessage("saving settings…")
	go func() {
		err := config.Save(path, conf)
		var loaded config.Config
		if err == nil {
			loaded, err = loadConfig()
		}
		ui(func() {
			if err != nil {
				if errors.Is(err, config.ErrNoKeyring) {
					err = fmt.Errorf("settings not saved: %w", err)
				}
				dialog.ShowError(err, ws.win)
				return
			}
			ws.settingsSaved(loaded)
		})
	}()
}

// settingsSaved takes a saved configuration into use: the reader's name and
// targets at once, the archive by reconnecting the sync service.
func (ws *workstation) settingsSaved(conf config.Config) {
	ws.conf = conf
	ws.worklist.setTurnaround(conf.Turnaround())
	msg := "settings saved"
	if os.Getenv("TELEREAD_ARCHIVE") != "" || os.Getenv("TELEREAD_READER") != "" {
		msg += " (TELEREAD_ARCHIVE or TELEREAD_READER in the environment still overrides them)"
	}
	ws.status.setMessage(msg)
	if ws.sync != nil {
		ws.sync.reload()
	} else {
		ws.startSync()
	}
}
