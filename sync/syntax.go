package sync

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// Transfer syntaxes a retrieve may ask for.
const (
	// SyntaxAsStored asks for the instances as the archive stores them.
	SyntaxAsStored = "*"
	// SyntaxJPEGLSLossless is JPEG-LS lossless (1.2.840.10008.1.2.4.80).
	SyntaxJPEGLSLossless = "1.2.840.10008.1.2.4.80"
	// SyntaxJPEGLosslessSV1 is JPEG Lossless, first-order prediction
	// (1.2.840.10008.1.2.4.70).
	SyntaxJPEGLosslessSV1 = "1.2.840.10008.1.2.4.70"
	// SyntaxHTJ2KLossless is High-Throughput JPEG 2000 lossless
	// (1.2.840.10008.1.2.4.201).
	SyntaxHTJ2KLossless = "1.2.840.10008.1.2.4.201"
)

// DefaultTransferSyntaxes is the preference list when none is configured:
// lossless compressed syntaxes, smallest on the wire first (a CT series in
// JPEG-LS takes about a third of its uncompressed bytes), then the stored
// bytes. No lossy syntax: those are asked for only when listed.
var DefaultTransferSyntaxes = []string{SyntaxJPEGLSLossless, SyntaxJPEGLosslessSV1, SyntaxHTJ2KLossless, SyntaxAsStored}

// checkSyntaxes validates a preference list: UIDs or "*", no repeats.
func checkSyntaxes(list []string) error {
	if len(list) == 0 {
		return fmt.Errorf("sync: transfer syntaxes: empty list (want UIDs or %q)", SyntaxAsStored)
	}
	seen := map[string]bool{}
	for _, ts := range list {
		if ts != SyntaxAsStored && checkUIDs(ts) != nil {
			return fmt.Errorf("sync: transfer syntaxes: %.70q: %w", ts, ErrInvalidUID)
		}
		if seen[ts] {
			return fmt.Errorf("sync: transfer syntaxes: %.70q listed twice", ts)
		}
		seen[ts] = true
	}
	return nil
}

// TransferSyntaxes returns the syntaxes a retrieve offers now, most
// preferred first: the configured list less those the archive refused, or
// the stored bytes alone when the link is fast (see ChooseLink).
func (c *Client) TransferSyntaxes() []string {
	_, l := c.syntaxes()
	return append([]string(nil), l...)
}

func (c *Client) syntaxes() (int, []string) {
	if c.link.choice() == LinkFast {
		// Nothing to drop: a refusal of "*" is not a refusal of a syntax.
		return -1, []string{SyntaxAsStored}
	}
	c.ts.mu.Lock()
	defer c.ts.mu.Unlock()
	return c.ts.from, c.cfg.TransferSyntaxes[c.ts.from:]
}

// dropSyntax remembers that the archive refused the syntax at index from.
// Concurrent retrieves that saw the same refusal drop it only once.
func (c *Client) dropSyntax(from int) {
	c.ts.mu.Lock()
	defer c.ts.mu.Unlock()
	if c.ts.from == from && from < len(c.cfg.TransferSyntaxes)-1 {
		c.ts.from++
		c.log.Info("archive refused a transfer syntax; falling back", "archive", c.display,
			"refused", c.cfg.TransferSyntaxes[from], "next", c.cfg.TransferSyntaxes[from+1])
	}
}

// acceptFor builds the Accept header of a retrieve offering list (most
// preferred first) with q-values (PS3.18 §8.7.3.5): 0.9 down to the
// least preferred, "*" always 0.1. The alternatives are written least
// preferred first: the q-values say the order to an archive that reads
// them, and Orthanc 1.10 with DICOMweb 1.7 ignores q and takes the LAST
// alternative.
func acceptFor(list []string) string {
	n := 0
	for _, ts := range list {
		if ts != SyntaxAsStored {
			n++
		}
	}
	step := 0.1
	if n > 8 {
		step = 0.8 / float64(n)
	}
	parts := make([]string, len(list))
	i := 0
	for k, ts := range list {
		q := 0.1
		if ts != SyntaxAsStored {
			q = 0.9 - float64(i)*step
			i++
		}
		parts[len(list)-1-k] = `multipart/related; type="application/dicom"; transfer-syntax=` + ts +
			"; q=" + strconv.FormatFloat(math.Round(q*1000)/1000, 'f', -1, 64)
	}
	return strings.Join(parts, ", ")
}

// refusal tells how the archive turned down the syntaxes offered: refused
// (it does not do the first of them; drop it for good) or cannotProduce
// (it failed to transcode this request's instances; ask for them as
// stored this once).
func refusal(err error) (refused, cannotProduce bool) {
	var he *HTTPError
	if !errors.As(err, &he) {
		return false, false
	}
	switch he.StatusCode {
	case http.StatusNotAcceptable, http.StatusBadRequest, http.StatusUnsupportedMediaType:
		return true, false
	case http.StatusInternalServerError, http.StatusNotImplemented:
		return false, true
	}
	return false, false
}

// headScan is how much of each part is looked at before it is handed on:
// enough for the meta header and the image module of any real instance.
const headScan = 64 << 10

// losslessSyntaxes are the syntaxes that cannot carry the loss of a lossy
// one: an instance of lossy history (Lossy Image Compression "01") that
// arrives in one of them was transcoded from its lossy stored form.
var losslessSyntaxes = map[string]bool{
	"1.2.840.10008.1.2": true, "1.2.840.10008.1.2.1": true, "1.2.840.10008.1.2.1.99": true,
	"1.2.840.10008.1.2.2": true, "1.2.840.10008.1.2.5": true, "1.2.840.10008.1.2.4.57": true,
	SyntaxJPEGLosslessSV1: true, SyntaxJPEGLSLossless: true, "1.2.840.10008.1.2.4.90": true,
	SyntaxHTJ2KLossless: true, "1.2.840.10008.1.2.4.202": true,
}

// instanceRef names one instance of a study.
type instanceRef struct{ series, sop string }

// transcodedFromLossy reports whether the start of an instance (explicit VR
// little endian, as every compressed syntax is) says it was stored lossy
// and arrived in a lossless syntax, and names it. Such an instance is
// fetched again as stored: re-encoding decoded lossy pixels costs bytes and
// the archive's decoder may not agree with ours on them. The elements are
// found by their tag and VR bytes; a false match only fetches the stored
// bytes, which is always correct.
func transcodedFromLossy(head []byte) (instanceRef, bool) {
	ts := elementValue(head, []byte{0x02, 0x00, 0x10, 0x00, 'U', 'I'})
	if !losslessSyntaxes[ts] || elementValue(head, []byte{0x28, 0x00, 0x10, 0x21, 'C', 'S'}) != "01" {
		return instanceRef{}, false
	}
	ref := instanceRef{
		series: elementValue(head, []byte{0x20, 0x00, 0x0E, 0x00, 'U', 'I'}),
		sop:    elementValue(head, []byte{0x08, 0x00, 0x18, 0x00, 'U', 'I'}),
	}
	if checkUIDs(ref.series, ref.sop) != nil {
		return instanceRef{}, false
	}
	return ref, true
}

// elementValue returns the trimmed value of the first short-VR element
// whose tag and VR bytes are key, or "".
func elementValue(b, key []byte) string {
	i := bytes.Index(b, key)
	if i < 0 || i+len(key)+2 > len(b) {
		return ""
	}
	n := int(b[i+len(key)]) | int(b[i+len(key)+1])<<8
	v := b[i+len(key)+2:]
	if n > len(v) || n > 64 {
		return ""
	}
	return strings.TrimRight(string(v[:n]), "\x00 ")
}

// pixelSize returns the bytes of an instance's pixel data uncompressed
// (Rows x Columns x Samples per Pixel x Bits Allocated / 8 x Number of
// Frames), read from the start of the instance as transcodedFromLossy reads
// it (explicit VR little endian); 0 when the elements are not found. A false
// match only skews the link's estimate.
func pixelSize(head []byte) int64 {
	us := func(elem byte, group byte) int64 {
		key := []byte{group, 0x00, elem, 0x00, 'U', 'S', 0x02, 0x00}
		i := bytes.Index(head, key)
		if i < 0 || i+len(key)+2 > len(head) {
			return 0
		}
		return int64(head[i+len(key)]) | int64(head[i+len(key)+1])<<8
	}
	rows, cols := us(0x10, 0x28), us(0x11, 0x28)
	spp, bits := us(0x02, 0x28), int64(0)
	if i := bytes.Index(head, []byte{0x28, 0x00, 0x00, 0x01, 'U', 'S', 0x02, 0x00}); i >= 0 && i+10 <= len(head) {
		bits = int64(head[i+8]) | int64(head[i+9])<<8
	}
	if spp == 0 {
		spp = 1
	}
	frames := int64(1)
	if v, err := strconv.Atoi(strings.TrimSpace(elementValue(head, []byte{0x28, 0x00, 0x08, 0x00, 'I', 'S'}))); err == nil && v > 0 {
		frames = int64(v)
	}
	return rows * cols * spp * ((bits + 7) / 8) * frames
}
