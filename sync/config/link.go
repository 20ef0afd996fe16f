package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	tsync "teleread/sync"
)

// DefaultPriors is how many priors are fetched per assigned study when the
// configuration does not say.
const DefaultPriors = 2

// PriorsPerStudy is Priors, or DefaultPriors when absent.
func (c Config) PriorsPerStudy() int {
	if c.Priors == nil || *c.Priors < 0 {
		return DefaultPriors
	}
	return *c.Priors
}

// Turnaround is the configured turnaround targets (defaults where absent).
func (c Config) Turnaround() tsync.Turnaround { return c.TurnaroundMinutes.Turnaround() }

// Link builds what the sync service works with from the configuration: the
// client (credentials, CA), the worklist (reader query, worklist_query or
// UPS-RS), priors, the cache limit and the turnaround. store keeps the UPS-RS
// claims (the cache).
func (c Config) Link(store tsync.WorkitemStore) (*tsync.Link, error) {
	return c.link(store, nil)
}

// LinkForAccessions is Link with the worklist given as accession numbers
// (`sync --accessions`): no reader is needed.
func (c Config) LinkForAccessions(store tsync.WorkitemStore, accessions []string) (*tsync.Link, error) {
	return c.link(store, accessions)
}

func (c Config) link(store tsync.WorkitemStore, accessions []string) (*tsync.Link, error) {
	ups, err := c.UPS()
	if err != nil {
		return nil, err
	}
	q, err := ParseQuery(c.WorklistQuery)
	if err != nil {
		return nil, err
	}
	if c.Reader == "" && !ups && q == nil && len(accessions) == 0 {
		return nil, fmt.Errorf("config: no reader: put \"reader\" in %s or set TELEREAD_READER", Path())
	}
	if err := tsync.AssignedAttribute(c.AssignedAttribute).Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	client, err := c.Client()
	if err != nil {
		return nil, err
	}
	link := &tsync.Link{Client: client, Reader: c.Reader, Worklist: q,
		AssignedAttribute: tsync.AssignedAttribute(c.AssignedAttribute),
		Priors:            tsync.PriorPolicy{Max: c.PriorsPerStudy()},
		CacheLimit:        c.CacheLimitBytes(), RetentionDays: c.RetentionDays,
		Turnaround: c.Turnaround(), Display: client.BaseURL(), Accessions: accessions,
		CutOffRetry: time.Duration(c.CutOffRetryHours * float64(time.Hour))}
	if ups {
		if link.UPS, err = c.UPSProvider(client, store); err != nil {
			return nil, err
		}
	}
	return link, nil
}

// ParseQuery reads a worklist query, "Key=Value" pairs joined by '&' or new
// lines; "" is none (the reader query).
func ParseQuery(s string) (*tsync.Query, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	q := &tsync.Query{}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '&' || r == '\n' }) {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("config: worklist_query %q: %w", s, ErrQuery)
		}
		q.Match = append(q.Match, tsync.Param{Key: strings.TrimSpace(k), Value: strings.TrimSpace(v)})
	}
	return q, nil
}

// ErrQuery is returned for a worklist query that is not Key=Value pairs.
var ErrQuery = errors.New("want Key=Value pairs joined by &")
