package sync

import (
	"context"
	"time"

	"teleread/cache"
)

// PurgeExpired is the retention policy (a RetentionFunc for
// Service.Retention): it purges the studies nobody accessed for the link's
// RetentionDays that are off the worklist and whose reports and consultation
// notes are all delivered (cache.Retain: key shredded, files and rows
// removed), after finishing purges a crash interrupted. RetentionDays 0
// keeps everything.
func PurgeExpired(_ context.Context, c *cache.Cache, link *Link) ([]string, error) {
	purged, err := c.Retain(link.RetentionDays, time.Now())
	var uids []string
	for _, p := range purged {
		uids = append(uids, p.StudyInstanceUID)
	}
	return uids, err
}
