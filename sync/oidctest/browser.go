package oidctest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// Browser stands for the user at the system browser: it follows the
// provider's redirects, fills in the login form with the user's name and
// password and submits it, as a person would.
type Browser struct {
	User, Password string
}

// Open signs in at authURL and follows the provider's final redirect to the
// app (its loopback listener), like a browser. Its signature is
// signin.OpenBrowser's.
func (b Browser) Open(authURL string) error {
	back, err := b.SignIn(authURL)
	if err != nil {
		return err
	}
	resp, err := http.Get(back.String())
	if err != nil {
		return fmt.Errorf("browser: back to the app: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("browser: back to the app: %s", resp.Status)
	}
	return nil
}

// SignIn signs in at authURL and returns where the provider sends the
// browser back to, without going there.
func (b Browser) SignIn(authURL string) (*url.URL, error) {
	start, err := url.Parse(authURL)
	if err != nil {
		return nil, err
	}
	jar, _ := cookiejar.New(nil)
	var back *url.URL
	c := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != start.Host {
			back = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := c.Get(authURL)
	if err != nil {
		return nil, fmt.Errorf("browser: %w", err)
	}
	for range 3 {
		if back != nil {
			resp.Body.Close()
			return back, nil
		}
		action, form, err := readForm(resp)
		if err != nil {
			return nil, err
		}
		form.Set("username", b.User)
		form.Set("password", b.Password)
		resp, err = c.PostForm(action, form)
		if err != nil {
			return nil, fmt.Errorf("browser: %w", err)
		}
	}
	resp.Body.Close()
	return nil, errors.New("browser: the provider never sent the browser back to the app")
}

// Approve opens the device verification page for userCode and approves it
// as the user.
func (b Browser) Approve(verificationURI, userCode string) error {
	u, err := url.Parse(verificationURI)
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("user_code", userCode)
	u.RawQuery = q.Encode()
	resp, err := http.Get(u.String())
	if err != nil {
		return fmt.Errorf("browser: %w", err)
	}
	action, form, err := readForm(resp)
	if err != nil {
		return err
	}
	form.Set("username", b.User)
	form.Set("password", b.Password)
	resp, err = http.PostForm(action, form)
	if err != nil {
		return fmt.Errorf("browser: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("browser: approve: %s", resp.Status)
	}
	return nil
}

// readForm reads the page's first form: its action (absolute) and its
// fields with their values. It closes the body.
func readForm(resp *http.Response) (string, url.Values, error) {
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return "", nil, fmt.Errorf("browser: %s: %s: %s", resp.Request.URL, resp.Status, strings.TrimSpace(string(b)))
	}
	doc, err := html.Parse(resp.Body)
	if err != nil {
		return "", nil, fmt.Errorf("browser: %w", err)
	}
	var action string
	found := false
	form := url.Values{}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			attr := map[string]string{}
			for _, a := range n.Attr {
				attr[a.Key] = a.Val
			}
			switch n.Data {
			case "form":
				if found {
					return
				}
				found, action = true, attr["action"]
			case "input":
				if attr["name"] != "" {
					form.Set(attr["name"], attr["value"])
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if !found {
		return "", nil, fmt.Errorf("browser: %s: no form on the page", resp.Request.URL)
	}
	a, err := resp.Request.URL.Parse(action)
	if err != nil {
		return "", nil, fmt.Errorf("browser: form action %q: %w", action, err)
	}
	return a.String(), form, nil
}
