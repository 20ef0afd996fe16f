package sync

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"teleread/cache"
)

// Outbox delivers signed SR documents from the cache's outbox with STOW-RS,
// exactly once: a report counts as delivered only when the archive names its
// exact SOP Instance UID, either in the STOW-RS answer's Referenced SOP Sequence
// or, after an ambiguous answer or a crash mid-send, in a QIDO-RS look-up. A
// resend always uses the same bytes and UID, so the archive can at most see the
// same instance twice, never two reports.
type Outbox struct {
	Cache  *cache.Cache
	Client *Client
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// OnChange, if set, is called after each row changes state (for the app's
	// status bar); it must not block.
	OnChange func(cache.OutboxItem)
	// OnDelivered, if set, is called once a report is confirmed delivered (the
	// worklist completes a UPS-RS workitem there).
	OnDelivered func(studyUID, sopUID string)
	// MaxBackoff caps the wait between attempts while offline; zero means 5 minutes.
	MaxBackoff time.Duration
	// IgnoreBackoff makes Flush try every undelivered row now, not only those
	// whose next attempt is due: for a flush the user asked for (`sync --once`,
	// `outbox --send`); background loops leave it false.
	IgnoreBackoff bool
}

// FlushResult says what one Flush did.
type FlushResult struct {
	Delivered, Pending, Failed int
	// Offline is set when an attempt could not reach the archive.
	Offline bool
}

func (o *Outbox) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// Flush tries every due outbox row once. It stops early when the archive is
// unreachable (the rest would fail the same way) and reports Offline.
func (o *Outbox) Flush(ctx context.Context) (FlushResult, error) {
	var res FlushResult
	at := o.now()
	if o.IgnoreBackoff {
		at = at.AddDate(100, 0, 0)
	}
	due, err := o.Cache.DueOutbox(at)
	if err != nil {
		return res, err
	}
	for i, it := range due {
		state, err := o.deliver(ctx, it)
		switch {
		case err != nil && errors.Is(err, ErrOffline):
			res.Offline = true
			res.Pending += len(due) - i
			return res, nil
		case err != nil:
			return res, err
		}
		switch state {
		case cache.OutboxDelivered:
			res.Delivered++
		case cache.OutboxFailed:
			res.Failed++
		default:
			res.Pending++
		}
	}
	return res, nil
}

// deliver runs one attempt and returns the row's new state. Only errors that
// leave the state unknown (database failures) or offline are returned.
func (o *Outbox) deliver(ctx context.Context, it cache.OutboxItem) (string, error) {
	// A row that was already tried (or left "sending" by a crash) may have
	// reached the archive although no answer came back: ask first.
	if it.Attempts > 0 || it.State == cache.OutboxSending {
		found, err := o.lookup(ctx, it)
		if err != nil {
			return o.retry(it, err)
		}
		if found {
			return o.delivered(it)
		}
	}
	sr, err := o.Cache.OutboxSR(it.SOPInstanceUID)
	if err != nil {
		return "", err
	}
	if err := o.Cache.MarkSending(it.SOPInstanceUID); err != nil {
		return "", err
	}
	it.Attempts++
	result, err := o.Client.Store(ctx, it.StudyInstanceUID, sr)
	cache.Stall(cache.StepOutboxSent)
	if err == nil && result.StoredUID(it.SOPInstanceUID) {
		return o.delivered(it)
	}
	var he *HTTPError
	permanent := errors.As(err, &he) && !he.Transient() && he.StatusCode != http.StatusConflict
	// Anything short of an explicit reference (a 409, a 200 with an empty or
	// truncated answer, a dropped connection) is ambiguous: look it up.
	found, lerr := o.lookup(ctx, it)
	if lerr == nil && found {
		return o.delivered(it)
	}
	reason := describe(err, result, it.SOPInstanceUID)
	if permanent {
		if err := o.Cache.MarkFailed(it.SOPInstanceUID, reason); err != nil {
			return "", err
		}
		o.changed(it.SOPInstanceUID)
		return cache.OutboxFailed, nil
	}
	if err == nil {
		err = errors.New(reason)
	}
	if lerr != nil && errors.Is(lerr, ErrOffline) {
		err = lerr
	}
	return o.retry(it, err)
}

// lookup asks the archive whether it has the instance, in the right study.
func (o *Outbox) lookup(ctx context.Context, it cache.OutboxItem) (bool, error) {
	obj, err := o.Client.FindInstance(ctx, it.SOPInstanceUID)
	if err != nil {
		return false, err
	}
	return obj != nil && obj.StudyUID() == it.StudyInstanceUID, nil
}

func (o *Outbox) delivered(it cache.OutboxItem) (string, error) {
	if err := o.Cache.MarkDelivered(it.SOPInstanceUID, o.now()); err != nil {
		return "", err
	}
	o.changed(it.SOPInstanceUID)
	if o.OnDelivered != nil {
		o.OnDelivered(it.StudyInstanceUID, it.SOPInstanceUID)
	}
	return cache.OutboxDelivered, nil
}

func (o *Outbox) retry(it cache.OutboxItem, cause error) (string, error) {
	next := o.now().Add(o.backoff(it.Attempts))
	if err := o.Cache.MarkRetry(it.SOPInstanceUID, cause.Error(), next); err != nil {
		return "", err
	}
	o.changed(it.SOPInstanceUID)
	if errors.Is(cause, ErrOffline) {
		return cache.OutboxPending, cause
	}
	return cache.OutboxPending, nil
}

// backoff grows exponentially from 2 s with full jitter, capped.
func (o *Outbox) backoff(attempts int) time.Duration {
	limit := o.MaxBackoff
	if limit <= 0 {
		limit = 5 * time.Minute
	}
	d := 2 * time.Second << min(attempts, 16)
	if d > limit || d <= 0 {
		d = limit
	}
	return d/2 + rand.N(d/2+1)
}

func (o *Outbox) changed(sop string) {
	if o.OnChange == nil {
		return
	}
	items, err := o.Cache.Outbox()
	if err != nil {
		return
	}
	for _, it := range items {
		if it.SOPInstanceUID == sop {
			o.OnChange(it)
		}
	}
}

func describe(err error, res *StoreResult, sop string) string {
	switch {
	case err != nil:
		return err.Error()
	case res == nil:
		return "STOW-RS: no answer body"
	}
	for _, f := range res.Failed {
		if f.SOPInstanceUID == sop {
			return fmt.Sprintf("STOW-RS: archive listed the report as failed (reason 0x%04X)", f.FailureReason)
		}
	}
	return fmt.Sprintf("STOW-RS: answer %d did not reference the report's SOP Instance UID", res.StatusCode)
}
