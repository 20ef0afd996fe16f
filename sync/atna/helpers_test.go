package atna

import (
	"context"
	"testing"
	"time"
)

func flush(t *testing.T, f *Forwarder, within time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	return f.Flush(ctx)
}
