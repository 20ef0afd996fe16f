package main

import (
	"context"
	"fmt"
	"time"

	"teleread/sync/atna"
)

// exitSendTimeout bounds how long a command waits, when it ends, for an
// audit record repository that hangs; one that refuses or is down costs
// nothing (the events wait in audit.log for the next process).
const exitSendTimeout = 2 * time.Second

// startAuditSyslog starts sending the audit trail to the audit record
// repository when the configuration has audit_syslog (see package atna). The
// returned stop makes one last attempt for what this process appended, then
// stops. A configuration that cannot be read here is reported by the command
// that needs it; a bad audit_syslog is reported and the trail stays local.
func startAuditSyslog(g *globals) (stop func()) {
	conf, err := loadConfig()
	if err != nil || conf.AuditSyslog == nil || conf.AuditSyslog.Address == "" {
		return func() {}
	}
	ac, err := conf.AuditSyslog.ATNA()
	if err != nil {
		fmt.Fprintf(stderr, "teleread: %v; audit events are kept in audit.log only\n", err)
		return func() {}
	}
	f := atna.Start(g.home, ac)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), exitSendTimeout)
		defer cancel()
		f.TrySend(ctx)
		f.Close()
	}
}
