package sync

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// FetchSharedStudy fetches one study named by a shared link (`teleread open
// URL`) into store through a puller of its own, with the client's link
// estimate and the home's cut-off table (cutOffs may be nil): the sync
// service's pull path, so that a front end never assembles sync parts itself.
func FetchSharedStudy(ctx context.Context, cl *Client, store Store, cutOffs *CutOffs, studyUID string) (int, int64, error) {
	p := &Puller{Client: cl, Store: store, CutOffs: cutOffs}
	return p.FetchStudy(ctx, studyUID)
}

// FetchStudy brings one study into the store the way a pull brings a
// worklist study (a shared study link: `teleread open URL`): the same
// transfer syntax negotiation and link policy, staging and group commits,
// cut-offs, reading order and resume, and the study is complete only when
// every instance the archive counts is durable. It returns the instances and
// bytes retrieved. The study is looked up with QIDO-RS first; an archive that
// does not answer the search (a link that grants WADO-RS alone) gets one
// study retrieve, made durable as a group, whose closing boundary is then the
// only proof of completeness there is.
func (p *Puller) FetchStudy(ctx context.Context, studyUID string) (int, int64, error) {
	if err := checkUIDs(studyUID); err != nil {
		return 0, 0, err
	}
	var found Object
	err := p.Client.SearchAll(ctx, "/studies", Query{Match: []Param{{"StudyInstanceUID", studyUID}}, IncludeFields: studyFields}, 100,
		func(o Object) error {
			if o.StudyUID() == studyUID {
				found = o
			}
			return nil
		})
	var he *HTTPError
	switch {
	case err == nil && found != nil:
		return p.fetchStudy(ctx, Assignment{StudyUID: studyUID, Role: "shared", Study: found})
	case err == nil:
		return 0, 0, fmt.Errorf("sync: study %s: %w", studyUID, ErrNotFound)
	case errors.Is(err, ErrBadResponse), errors.As(err, &he) && (he.StatusCode == 400 || he.StatusCode == 403 ||
		he.StatusCode == 404 || he.StatusCode == 405 || he.StatusCode == 501):
		// No search here: retrieve the study whole.
		return p.retrieveWhole(ctx, studyUID)
	}
	p.connectivity(err)
	return 0, 0, err
}

// retrieveWhole retrieves a study in one request through a batch of the
// store (or one instance at a time into a store without batches).
func (p *Puller) retrieveWhole(ctx context.Context, studyUID string) (int, int64, error) {
	var bytes int64
	bs, ok := p.Store.(BatchStore)
	if !ok {
		n, err := p.Client.RetrieveStudy(ctx, studyUID, func(part io.Reader) error {
			cr := &countingReader{r: part}
			_, err := p.Store.StoreInstance(cr, "study "+studyUID)
			bytes += cr.n
			return err
		})
		return n, bytes, err
	}
	b := bs.NewBatch(sourceArchive)
	n, err := p.Client.RetrieveStudy(ctx, studyUID, func(part io.Reader) error {
		cr := &countingReader{r: part}
		_, err := b.Add(cr, "study "+studyUID)
		bytes += cr.n
		return err
	})
	sops, cerr := b.Commit()
	if err == nil {
		err = cerr
	}
	if err != nil {
		p.connectivity(err)
		return len(sops), bytes, fmt.Errorf("sync: study %s: %w", studyUID, err)
	}
	if n == 0 {
		return 0, bytes, fmt.Errorf("sync: study %s: the archive returned no instance", studyUID)
	}
	p.emit(Event{Kind: StudyProgress, StudyUID: studyUID, Done: len(sops), Total: n, Bytes: bytes})
	return len(sops), bytes, nil
}
