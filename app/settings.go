package app

import (
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// Preference keys. Secrets are stored sealed (see secretBox).
const (
	PrefArchiveURL    = "archive.url"
	PrefAuthKind      = "archive.auth" // none, basic, bearer
	PrefAuthUser      = "archive.user"
	PrefAuthSecret    = "archive.secret" // sealed password or token
	PrefReaderName    = "reader.name"    // DICOM person name, Family^Given
	PrefReaderOrg     = "reader.organization"
	PrefWorklistQuery = "worklist.query"
	PrefPriors        = "worklist.priors" // how many priors to fetch per study
	PrefCacheLimitGB  = "cache.limit_gb"
	PrefTurnaroundMin = "worklist.turnaround_minutes"
)

// Settings are the user's settings as the dialog edits them.
type Settings struct {
	ArchiveURL    string
	AuthKind      string
	AuthUser      string
	AuthSecret    string // plain in memory only
	ReaderName    string
	ReaderOrg     string
	WorklistQuery string
	Priors        int
	CacheLimitGB  float64
	TurnaroundMin int
}

// LoadSettings reads the settings from prefs, opening the sealed secret with the
// key in home.
func LoadSettings(prefs fyne.Preferences, home string) (Settings, error) {
	s := Settings{
		ArchiveURL:    prefs.String(PrefArchiveURL),
		AuthKind:      prefs.StringWithFallback(PrefAuthKind, "none"),
		AuthUser:      prefs.String(PrefAuthUser),
		ReaderName:    prefs.String(PrefReaderName),
		ReaderOrg:     prefs.String(PrefReaderOrg),
		WorklistQuery: prefs.String(PrefWorklistQuery),
		Priors:        prefs.IntWithFallback(PrefPriors, 2),
		CacheLimitGB:  prefs.FloatWithFallback(PrefCacheLimitGB, 50),
		TurnaroundMin: prefs.IntWithFallback(PrefTurnaroundMin, 60),
	}
	secret, err := newSecretBox(home).open(prefs.String(PrefAuthSecret))
	s.AuthSecret = secret
	return s, err
}

// SaveSettings writes s to prefs, sealing the secret.
func SaveSettings(prefs fyne.Preferences, home string, s Settings) error {
	sealed, err := newSecretBox(home).seal(s.AuthSecret)
	if err != nil {
		return err
	}
	prefs.SetString(PrefArchiveURL, s.ArchiveURL)
	prefs.SetString(PrefAuthKind, s.AuthKind)
	prefs.SetString(PrefAuthUser, s.AuthUser)
	prefs.SetString(PrefAuthSecret, sealed)
	prefs.SetString(PrefReaderName, s.ReaderName)
	prefs.SetString(PrefReaderOrg, s.ReaderOrg)
	prefs.SetString(PrefWorklistQuery, s.WorklistQuery)
	prefs.SetInt(PrefPriors, s.Priors)
	prefs.SetFloat(PrefCacheLimitGB, s.CacheLimitGB)
	prefs.SetInt(PrefTurnaroundMin, s.TurnaroundMin)
	return nil
}

// showSettings opens the settings dialog.
func (ws *workstation) showSettings() {
	s, err := LoadSettings(ws.cfg.Preferences, ws.cfg.Home)
	if err != nil {
		ws.status.setMessage("stored archive secret cannot be opened; enter it again")
	}
	url := widget.NewEntry()
	url.SetText(s.ArchiveURL)
	url.SetPlaceHolder("https://pacs.example.org/dicom-web")
	auth := widget.NewSelect([]string{"none", "basic", "bearer"}, nil)
	auth.SetSelected(s.AuthKind)
	user := widget.NewEntry()
	user.SetText(s.AuthUser)
	secret := widget.NewPasswordEntry()
	secret.SetText(s.AuthSecret)
	reader := widget.NewEntry()
	reader.SetText(s.ReaderName)
	reader.SetPlaceHolder("Family^Given")
	org := widget.NewEntry()
	org.SetText(s.ReaderOrg)
	query := widget.NewEntry()
	query.SetText(s.WorklistQuery)
	query.SetPlaceHolder("NameOfPhysiciansReadingStudy=*Reader*")
	priors := widget.NewEntry()
	priors.SetText(strconv.Itoa(s.Priors))
	limit := widget.NewEntry()
	limit.SetText(strconv.FormatFloat(s.CacheLimitGB, 'f', -1, 64))
	tat := widget.NewEntry()
	tat.SetText(strconv.Itoa(s.TurnaroundMin))
	items := []*widget.FormItem{
		widget.NewFormItem("Archive (DICOMweb) URL", url),
		widget.NewFormItem("Authentication", auth),
		widget.NewFormItem("User", user),
		widget.NewFormItem("Password / token", secret),
		widget.NewFormItem("Reader name", reader),
		widget.NewFormItem("Organization", org),
		widget.NewFormItem("Worklist query", query),
		widget.NewFormItem("Priors per study", priors),
		widget.NewFormItem("Cache size limit (GB)", limit),
		widget.NewFormItem("Turnaround target (min)", tat),
	}
	d := dialog.NewForm("Settings", "Save", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		n := Settings{ArchiveURL: strings.TrimSpace(url.Text), AuthKind: auth.Selected, AuthUser: user.Text,
			AuthSecret: secret.Text, ReaderName: strings.TrimSpace(reader.Text), ReaderOrg: strings.TrimSpace(org.Text),
			WorklistQuery: strings.TrimSpace(query.Text)}
		var err1, err2, err3 error
		n.Priors, err1 = strconv.Atoi(strings.TrimSpace(priors.Text))
		n.CacheLimitGB, err2 = strconv.ParseFloat(strings.TrimSpace(limit.Text), 64)
		n.TurnaroundMin, err3 = strconv.Atoi(strings.TrimSpace(tat.Text))
		if err1 != nil || err2 != nil || err3 != nil || n.Priors < 0 || n.CacheLimitGB <= 0 || n.TurnaroundMin <= 0 {
			dialog.ShowError(fmt.Errorf("priors, cache size and turnaround must be positive numbers"), ws.win)
			return
		}
		if err := SaveSettings(ws.cfg.Preferences, ws.cfg.Home, n); err != nil {
			dialog.ShowError(err, ws.win)
			return
		}
		ws.status.setMessage("settings saved")
		if n.ArchiveURL != s.ArchiveURL || n.AuthKind != s.AuthKind || n.AuthUser != s.AuthUser || n.AuthSecret != s.AuthSecret ||
			n.ReaderName != s.ReaderName || n.WorklistQuery != s.WorklistQuery || n.Priors != s.Priors {
			ws.restartSync()
		}
	}, ws.win)
	d.Resize(fyne.NewSize(640, 520))
	d.Show()
}
